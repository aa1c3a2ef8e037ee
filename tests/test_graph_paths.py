"""Tests for the skeleton-graph steps of ScribbleSeg Alg. 1 (iseg_bench.geometry.graph_paths):
the cached medial axis equals skimage's, the MSF has NetworkX's minimum spanning forest weight
and equals Alg. 1's literal cycle-removal loop (written here on NetworkX's find_cycle), the
tree-diameter longest path has the length of NetworkX's all-pairs Dijkstra maximum, and the
tie rules hold on hand-drawn graphs and skeletons. The NetworkX oracles share no code (edge
order, adjacency) with the module under test."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from skimage.morphology import medial_axis as sk_medial_axis

from iseg_bench.geometry import graph_paths as gp


def _random_mask(rng: np.random.Generator, shape: tuple[int, int], p: float) -> np.ndarray:
    return ndi.binary_opening(rng.random(shape) < p) | (rng.random(shape) < 0.05)


@pytest.mark.parametrize("seed", range(40))
def test_medial_axis_equals_skimage(seed):
    rng = np.random.default_rng(seed)
    mask = _random_mask(rng, (int(rng.integers(3, 70)), int(rng.integers(3, 70))),
                        float(rng.uniform(0.3, 0.9)))
    assert np.array_equal(gp.medial_axis(mask, seed % 4), sk_medial_axis(mask, rng=seed % 4))


def test_medial_axis_is_deterministic_and_subset():
    mask = np.zeros((30, 40), dtype=bool)
    mask[5:25, 5:35] = True
    a, b = gp.medial_axis(mask), gp.medial_axis(mask)
    assert np.array_equal(a, b) and a.any() and not (a & ~mask).any()


def test_radius_graph_8_neighbourhood():
    pts = np.array([[0, 0], [0, 1], [1, 1], [3, 3], [5, 5]])
    i, j, w = gp.radius_graph_edges(pts)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2)]
    assert np.allclose(w, [1.0, math.sqrt(2), 1.0])
    i, j, w = gp.radius_graph_edges(pts, radius=3.0)
    assert (2, 3) in list(zip(i.tolist(), j.tolist()))
    with pytest.raises(ValueError):
        gp.radius_graph_edges(pts, radius=0)


def _nx_forest(n, i, j, w) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(i.tolist(), j.tolist(), w.tolist()))
    return g


def _nx_longest(g: nx.Graph) -> float:
    """The longest shortest-path length over all node pairs (a forest's diameter)."""
    return max(d for _, dists in nx.all_pairs_dijkstra_path_length(g) for d in dists.values())


def _random_graph(seed: int):
    rng = np.random.default_rng(seed)
    pts = np.argwhere(rng.random((int(rng.integers(2, 16)), int(rng.integers(2, 16))))
                      < rng.uniform(0.2, 0.9))
    if len(pts) == 0:
        pts = np.array([[0, 0]])
    radius = float(rng.choice([1.0, math.sqrt(2), 1.5, 2.3]))
    i, j, w = gp.radius_graph_edges(pts, radius)
    return len(pts), i, j, w


def _remove_cycles_literally(n, i, j, w) -> list[tuple[int, int, float]]:
    """Alg. 1 lines 4-11 as written: while NetworkX finds a cycle, remove its heaviest edge,
    ties by the documented order (weight, smaller node, larger node); the remaining edges
    as sorted (i, j, w) triples."""
    g = _nx_forest(n, i, j, w)
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        a, b = max(((e[0], e[1]) for e in cycle),
                   key=lambda e: (g.edges[e]["weight"], min(e), max(e)))
        g.remove_edge(a, b)
    return sorted((min(a, b), max(a, b), d["weight"]) for a, b, d in g.edges(data=True))


def _triples(edges) -> list[tuple[int, int, float]]:
    return list(zip(edges[0].tolist(), edges[1].tolist(), edges[2].tolist()))


@pytest.mark.parametrize("seed", range(60))
def test_msf_equals_iterative_cycle_removal(seed):
    n, i, j, w = _random_graph(seed)
    fast = gp.minimum_spanning_forest(n, i, j, w)
    assert _triples(fast) == _remove_cycles_literally(n, i, j, w)
    assert fast[0].dtype == fast[1].dtype == np.int64 and fast[2].dtype == np.float64
    g = _nx_forest(n, *fast)
    assert nx.is_forest(g)
    full = _nx_forest(n, i, j, w)
    assert nx.number_connected_components(g) == nx.number_connected_components(full)
    # every minimum spanning forest has the same total weight, whatever its tie rule
    assert float(np.sum(fast[2])) == pytest.approx(
        nx.minimum_spanning_tree(full).size(weight="weight"), abs=1e-9)


def test_cycle_removal_drops_heaviest_edge_of_a_cycle():
    # a 2x2 block: 4 axis edges (1) and 2 diagonals (sqrt 2); the diagonals go first
    pts = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    i, j, w = gp.radius_graph_edges(pts)
    fi, fj, fw = gp.minimum_spanning_forest(4, i, j, w)
    assert len(fw) == 3 and np.allclose(fw, 1.0)
    # ties among the four unit edges: the highest (min, max) pair, (2, 3), is dropped
    assert list(zip(fi.tolist(), fj.tolist())) == [(0, 1), (0, 2), (1, 3)]


@pytest.mark.parametrize("seed", range(80))
def test_diameter_equals_every_node_oracle_random_graphs(seed):
    n, i, j, w = _random_graph(seed)
    fi, fj, fw = gp.minimum_spanning_forest(n, i, j, w)
    path, length = gp.longest_path_in_forest(n, fi, fj, fw)
    opath, olength = gp.longest_path_every_node(n, fi, fj, fw, chunk=7)
    assert length == pytest.approx(_nx_longest(_nx_forest(n, fi, fj, fw)), abs=1e-9)
    assert olength == pytest.approx(length, abs=1e-9)
    _check_path(path, length, fi, fj, fw)
    _check_path(opath, olength, fi, fj, fw)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_diameter_equals_oracle_on_skeletons(seed):
    rng = np.random.default_rng(seed)
    mask = np.pad(_random_mask(rng, (int(rng.integers(5, 50)), int(rng.integers(5, 50))),
                               float(rng.uniform(0.4, 0.95))), 1)
    skel = gp.medial_axis(mask)
    if not skel.any():
        return
    pts, length = gp.skeleton_longest_path(skel, method="diameter")
    opts, olength = gp.skeleton_longest_path(skel, method="every_node")
    assert length == pytest.approx(olength, abs=1e-9)
    assert skel[pts[:, 0].astype(int), pts[:, 1].astype(int)].all()
    steps = np.hypot(*np.diff(pts, axis=0).T)
    assert np.all(steps <= math.sqrt(2) + 1e-9)
    assert steps.sum() == pytest.approx(length)


def test_weighted_random_trees():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 60))
        parents = [int(rng.integers(0, k)) for k in range(1, n)]
        i = np.array(parents, dtype=np.int64)
        j = np.arange(1, n, dtype=np.int64)
        w = rng.uniform(0.1, 5.0, size=n - 1)
        path, length = gp.longest_path_in_forest(n, i, j, w)
        assert length == pytest.approx(_nx_longest(_nx_forest(n, i, j, w)), abs=1e-9)
        _check_path(path, length, i, j, w)


def test_forest_rejects_cycles_and_handles_single_nodes():
    cycle = "^the graph is not a forest \\(it has a cycle\\)$"
    with pytest.raises(ValueError, match=cycle):
        gp.longest_path_in_forest(3, np.array([0, 1, 0]), np.array([1, 2, 2]),
                                  np.ones(3))
    # a square 0-1-2-3 beside an edge (4, 5): 5 edges on 6 nodes, but still a cycle
    i, j, w = _edges((0, 1, 1.0), (0, 2, 1.0), (1, 3, 1.0), (2, 3, 1.0), (4, 5, 1.0))
    with pytest.raises(ValueError, match=cycle):
        gp.longest_path_in_forest(6, i, j, w)
    path, length = gp.longest_path_in_forest(3, np.zeros(0, np.int64), np.zeros(0, np.int64),
                                             np.zeros(0))
    assert path.tolist() == [0] and length == 0.0
    with pytest.raises(ValueError):
        gp.skeleton_longest_path(np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="^unknown method 'nope'; use 'diameter' or "):
        gp.skeleton_longest_path(np.ones((1, 1), bool), method="nope")


def _check_path(path, length, i, j, w):
    edges = {(int(a), int(b)): float(c) for a, b, c in zip(i, j, w)}
    total = 0.0
    for a, b in zip(path[:-1].tolist(), path[1:].tolist()):
        total += edges[(min(a, b), max(a, b))]
    assert total == pytest.approx(length, abs=1e-9)
    assert len(set(path.tolist())) == len(path)


@pytest.mark.parametrize("seed", range(30))
def test_eight_neighbour_fast_path_equals_kdtree(seed):
    from scipy.spatial import cKDTree
    rng = np.random.default_rng(seed)
    pts = np.argwhere(rng.random((int(rng.integers(1, 30)), int(rng.integers(1, 30)))) < 0.4)
    pts = pts[rng.permutation(len(pts))] + rng.integers(-5, 5, size=2)
    i, j, w = gp.radius_graph_edges(pts)
    if len(pts) < 2:
        assert len(i) == 0
        return
    ref = cKDTree(pts.astype(float)).query_pairs(math.sqrt(2) + 1e-9, output_type="ndarray")
    ref = np.sort(ref, axis=1)
    ref = ref[np.lexsort((ref[:, 1], ref[:, 0]))] if len(ref) else ref.reshape(0, 2)
    assert np.array_equal(np.stack([i, j], axis=1).reshape(-1, 2), ref.reshape(-1, 2))


def _edges(*triples):
    i, j, w = zip(*triples)
    return np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(w, dtype=float)


def test_cycle_removal_tie_is_smaller_node_first():
    # the 5-cycle 0-4-1-2-3-0 with equal weights: the heaviest edge under (weight, smaller
    # node, larger node) is (2, 3); ordering by the larger node first would drop (1, 4)
    i, j, w = _edges((0, 3, 1.0), (0, 4, 1.0), (1, 2, 1.0), (1, 4, 1.0), (2, 3, 1.0))
    assert _triples(gp.minimum_spanning_forest(5, i, j, w)) == [
        (0, 3, 1.0), (0, 4, 1.0), (1, 2, 1.0), (1, 4, 1.0)]
    # weight comes before the node numbers: the heavier (0, 1) goes, not (2, 3)
    i, j, w = _edges((0, 1, 2.0), (0, 2, 1.0), (1, 3, 1.0), (2, 3, 1.0))
    assert _triples(gp.minimum_spanning_forest(4, i, j, w)) == [
        (0, 2, 1.0), (1, 3, 1.0), (2, 3, 1.0)]


def test_cycle_removal_without_edges_and_with_isolated_nodes():
    empty = np.zeros(0, dtype=np.int64)
    for n in (1, 3):
        fi, fj, fw = gp.minimum_spanning_forest(n, empty, empty, np.zeros(0))
        assert len(fi) == len(fj) == len(fw) == 0
    # a triangle 1-2-3 beside the isolated nodes 0 and 4, and a lone edge (5, 6)
    i, j, w = _edges((1, 2, 1.0), (1, 3, 1.5), (2, 3, 1.0), (5, 6, 3.0))
    assert _triples(gp.minimum_spanning_forest(7, i, j, w)) == [
        (1, 2, 1.0), (2, 3, 1.0), (5, 6, 3.0)]


# Hand-drawn trees for the tie rules of the two longest-path methods (docs/robots/
# scribbler.md, step 6). Diameter: root = the component's lowest node, a = the lowest node
# farthest from it, b = the lowest node farthest from a, path a -> b; the longest diameter
# wins, ties to the component with the lowest node. Every node: the first source (lowest
# node) whose farthest node is farthest wins, path from it to its lowest farthest node.
_STAR = (4, _edges((0, 1, 1.0), (0, 2, 1.0), (0, 3, 1.0)))      # centre 0, leaves 1, 2, 3
_LINE = (3, _edges((0, 1, 1.0), (1, 2, 1.0)))                   # 0 - 1 - 2
_TWO_TIED = (4, _edges((0, 1, 2.0), (2, 3, 2.0)))               # two trees, same diameter
_LATER_LONGER = (5, _edges((0, 1, 1.0), (2, 3, 1.0), (3, 4, 1.0)))
_ISOLATED_FIRST = (3, _edges((1, 2, 1.0),))                     # node 0 has no edge
# 2 - 0 - 1 - 3, unit weights: the root 0 lies inside; its farthest node is a = 3 (at 2),
# and a's farthest is 2 (at 3). Every node: sources 0 and 1 reach 2 only; source 2 reaches 3.
_ROOT_INSIDE = (4, _edges((0, 1, 1.0), (0, 2, 1.0), (1, 3, 1.0)))

_TREES = {
    #                 (diameter path, every-node path, length)
    "star": (_STAR, [1, 0, 2], [1, 0, 2], 2.0),
    "line": (_LINE, [2, 1, 0], [0, 1, 2], 2.0),
    "two tied trees": (_TWO_TIED, [1, 0], [0, 1], 2.0),
    "later tree longer": (_LATER_LONGER, [4, 3, 2], [2, 3, 4], 2.0),
    "isolated first node": (_ISOLATED_FIRST, [2, 1], [1, 2], 1.0),
    "root inside": (_ROOT_INSIDE, [3, 1, 0, 2], [2, 0, 1, 3], 3.0),
}


@pytest.mark.parametrize("name", _TREES)
def test_longest_path_tie_rules_on_hand_drawn_trees(name):
    (n, (i, j, w)), diameter_path, every_path, length = _TREES[name]
    path, got = gp.longest_path_in_forest(n, i, j, w)
    assert path.tolist() == diameter_path and path.dtype == np.int64 and got == length
    for chunk in (1, 2, 256):
        path, got = gp.longest_path_every_node(n, i, j, w, chunk=chunk)
        assert path.tolist() == every_path and path.dtype == np.int64 and got == length
        assert isinstance(got, float)


@pytest.mark.parametrize("method", [gp.longest_path_in_forest, gp.longest_path_every_node])
def test_longest_path_without_edges(method):
    empty = np.zeros(0, dtype=np.int64)
    for n in (1, 3):
        path, length = method(n, empty, empty, np.zeros(0))
        assert path.tolist() == [0] and path.dtype == np.int64
        assert length == 0.0 and isinstance(length, float)
    with pytest.raises(ValueError, match="^the graph has no node$"):
        method(0, empty, empty, np.zeros(0))


def test_skeleton_longest_path_radius_and_default_method():
    diagonal = np.eye(4, dtype=bool)
    pts, length = gp.skeleton_longest_path(diagonal)
    # raster order is the diagonal's order; root 0, a = node 3, path 3 -> 0
    assert pts.tolist() == [[3, 3], [2, 2], [1, 1], [0, 0]] and pts.dtype == np.float64
    assert length == pytest.approx(3 * math.sqrt(2))
    # radius 1 joins no diagonal pixels: four single nodes, the first one wins
    pts, length = gp.skeleton_longest_path(diagonal, radius=1.0)
    assert pts.tolist() == [[0, 0]] and length == 0.0
    with pytest.raises(ValueError, match="^empty skeleton$"):
        gp.skeleton_longest_path(np.zeros((3, 3), bool))


@pytest.mark.parametrize(("shape", "line", "path"), [
    # a one-pixel line is its own medial axis; path from the last raster node to the first
    ((5, 3), (slice(None), 1), [[4, 1], [3, 1], [2, 1], [1, 1], [0, 1]]),
    ((3, 5), (1, slice(None)), [[1, 4], [1, 3], [1, 2], [1, 1], [1, 0]]),
])
def test_skeleton_path_reaches_the_region_border(shape, line, path):
    region = np.zeros(shape, dtype=bool)
    region[line] = True
    assert gp.skeleton_path(region).tolist() == path
    assert gp.skeleton_path(region, method="every_node").tolist() == path[::-1]


def test_skeleton_path_uses_the_seed():
    # a 2 x 6 band: skimage's medial axis (rng=1) of the padded band is the simple path
    # (0,0) (0,1) (0,2) (1,3) (1,4) (1,5); with rng=0 it is another one
    region = np.ones((2, 6), dtype=bool)
    skel = sk_medial_axis(np.pad(region, 1), rng=1)[1:-1, 1:-1]
    assert np.argwhere(skel).tolist() == [[0, 0], [0, 1], [0, 2], [1, 3], [1, 4], [1, 5]]
    expected = [[1, 5], [1, 4], [1, 3], [0, 2], [0, 1], [0, 0]]
    assert gp.skeleton_path(region, seed=1).tolist() == expected
    assert gp.skeleton_path(region).tolist() != expected


def test_skeleton_path_of_an_empty_region_raises():
    with pytest.raises(ValueError, match="^empty skeleton$"):
        gp.skeleton_path(np.zeros((4, 4), dtype=bool))


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 2), (3, 1), (2, 3)])
def test_skeleton_path_of_tiny_regions_is_inside(shape):
    # every non-empty region has a non-empty medial axis: the smallest ones, whole
    for bits in range(1, 2 ** (shape[0] * shape[1])):
        region = ((bits >> np.arange(shape[0] * shape[1])) & 1).astype(bool).reshape(shape)
        path = gp.skeleton_path(region).astype(int)
        assert len(path) >= 1 and region[path[:, 0], path[:, 1]].all()
