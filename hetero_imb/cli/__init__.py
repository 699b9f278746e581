"""Stage 5 — command lines: ``train`` (one run), ``compare`` (a grid), shared argument
parsing (:mod:`.common`) and the component catalogue (:mod:`.catalog`)."""
