"""Stage 3 — training: the one training loop (:mod:`.engine`), the run configuration
(:mod:`.config`), mini-batch loading (:mod:`.sampling`), the runner that turns a
configuration into a result (:mod:`.runner`) and comparison grids (:mod:`.grid`)."""
