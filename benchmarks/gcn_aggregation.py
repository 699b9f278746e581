"""GCN aggregation on CPU: PyG's gather/scatter over ``edge_index`` vs one sparse CSR product.

Both variants run the same two ``GCNConv`` layers (same weights) on the homogeneous
projection of the graph, forward + backward, and are timed alternately in one
process so that a busy machine slows both alike; the script prints the median
seconds per step of each and their ratio, and checks that both give the same output.

Usage::

    python benchmarks/gcn_aggregation.py                       # Freebase, 2 threads
    python benchmarks/gcn_aggregation.py --dataset synthetic   # no files needed
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/_args.py, rgcn_variants.py
from _args import Parser, non_negative_int, positive_int, validated  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="freebase", help="freebase (default) or synthetic")
    parser.add_argument("--hidden", type=positive_int, default=64)
    parser.add_argument("--steps", type=positive_int, default=10, help="timed steps per variant")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    args = parser.parse_args(argv)
    from hetero_imb.data.datasets import DATASETS

    validated(parser, "--dataset", DATASETS.get, args.dataset, parameter="--dataset")

    import torch
    from rgcn_variants import load_graph
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    from hetero_imb.models.homogeneous import homogeneous_projection
    from hetero_imb.models.sparse_adj import gcn_adjacency

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = load_graph(args.dataset, args.seed)
    _, num_nodes, edge_index, _ = homogeneous_projection(data, data.node_types, data.edge_types)
    x = torch.randn(num_nodes, args.hidden, requires_grad=True)
    convs = [GCNConv(args.hidden, args.hidden, normalize=False) for _ in range(2)]

    def edge_list_step() -> torch.Tensor:
        ei, w = gcn_norm(edge_index, None, num_nodes, add_self_loops=True)
        h = torch.relu(convs[0](x, ei, w))
        return convs[1](h, ei, w)

    def sparse_step() -> torch.Tensor:
        adj = gcn_adjacency(edge_index, num_nodes)
        h = torch.relu(convs[0](x, adj))
        return convs[1](h, adj)

    with torch.no_grad():
        gap = (edge_list_step() - sparse_step()).abs().max().item()
    variants = {"edge_index (gather/scatter)": edge_list_step, "sparse CSR (spmm)": sparse_step}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for step in range(args.steps + 1):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn().sum().backward()
            if step:  # the first round warms up
                times[name].append(time.perf_counter() - start)
    print(
        f"dataset={args.dataset} nodes={num_nodes} edges={edge_index.size(1)} "
        f"hidden={args.hidden} threads={args.threads} steps={args.steps}; "
        f"max |difference| of outputs {gap:.2e}"
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:<28} {median:.4f} s/step (2 layers, forward + backward, incl. normalisation)")
    first, second = medians.values()
    print(f"ratio edge_index / sparse: {first / second:.2f}")


if __name__ == "__main__":
    main()
