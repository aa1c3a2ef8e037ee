"""Tests for the skeleton-graph steps of ScribbleSeg Alg. 1 (iseg_bench.geometry.graph_paths):
the cached medial axis equals skimage's, the MSF has NetworkX's minimum spanning forest weight
(and equals the library's literal cycle-removal loop), and the tree-diameter longest path has
the length of NetworkX's all-pairs Dijkstra maximum. The NetworkX oracles share no code
(edge order, adjacency) with the module under test."""

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


@pytest.mark.parametrize("seed", range(60))
def test_msf_equals_iterative_cycle_removal(seed):
    n, i, j, w = _random_graph(seed)
    fast = gp.minimum_spanning_forest(n, i, j, w)
    slow = gp.remove_cycles_iteratively(n, i, j, w)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
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
    with pytest.raises(ValueError):
        gp.longest_path_in_forest(3, np.array([0, 1, 0]), np.array([1, 2, 2]),
                                  np.ones(3))
    path, length = gp.longest_path_in_forest(3, np.zeros(0, np.int64), np.zeros(0, np.int64),
                                             np.zeros(0))
    assert path.tolist() == [0] and length == 0.0
    with pytest.raises(ValueError):
        gp.skeleton_longest_path(np.zeros((3, 3), bool))
    with pytest.raises(ValueError):
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
