"""Stage 1 — data: dataset loaders, graph builders (pandas, networkx, DGL), graph
conventions, validation, splits, induced imbalance and structural features.

Everything here produces or checks a PyG ``HeteroData`` that follows the toolkit's
conventions (``target_node_type``, ``class_names``, ``metapaths``, labels in
``data[target].y`` with ``-1`` for unlabelled nodes).
"""
