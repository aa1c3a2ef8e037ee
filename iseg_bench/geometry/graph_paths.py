"""Skeleton graphs: medial axis, radius-neighbour graph, cycle removal, longest shortest path.

Source: Chen et al., "ScribbleSeg: Scribble-based Interactive Image Segmentation", Sec. 3.4,
Alg. 1 lines 2-17; the radius sqrt(2) and the heaviest-edge cycle removal come from the DAVIS
interactive robot (Caelles et al. 2018, ``davisinteractive``). Nodes are the skeleton pixels
in raster order; every tie is broken by that numbering. See docs/robots/scribbler.md.

Constants:
    DEFAULT_RADIUS = sqrt(2) px: neighbourhood radius of the skeleton graph.
    RADIUS_EPS = 1e-9 px: pairs at distance <= radius + RADIUS_EPS are neighbours.
    MEDIAL_AXIS_SEED = 0: seed of skimage's medial-axis tie-breaking permutation.
"""

from __future__ import annotations

import importlib
import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from scipy import ndimage as ndi
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

RADIUS_EPS = 1e-9
MEDIAL_AXIS_SEED = 0
DEFAULT_RADIUS = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------
# Medial axis (Alg. 1 line 2)
# ---------------------------------------------------------------------------------------

def _skimage_private() -> Any:
    """skimage's private medial-axis helpers (``skimage.morphology._skeletonize``).

    Raises:
        ImportError: skimage is missing or has no such module.
    """
    return importlib.import_module("skimage.morphology._skeletonize")


@lru_cache(maxsize=1)
def _medial_axis_tables() -> tuple[np.ndarray, np.ndarray] | None:
    """skimage's two 512-entry lookup tables for the medial axis, built once.

    ``skimage.morphology.medial_axis`` rebuilds them on every call (about 30 ms, 1024
    ``ndimage.label`` calls), which would dominate a stroke. Returns None when the private
    helpers are not available (then the public function is used).
    """
    try:
        sk = _skimage_private()
        pattern_of, eight = sk._pattern_of, sk._eight_connect
        sk._skeletonize_loop, sk._table_lookup  # noqa: B018 - presence check
    except (ImportError, AttributeError):
        return None
    centre = (np.arange(512) & 2 ** 4).astype(bool)
    changes = np.array([ndi.label(pattern_of(i), eight)[1]
                        != ndi.label(pattern_of(i & ~(2 ** 4)), eight)[1] for i in range(512)])
    few = np.array([np.sum(pattern_of(i)) < 3 for i in range(512)])
    table = np.ascontiguousarray(centre & (changes | few), dtype=np.uint8)
    cornerness = np.array([9 - np.sum(pattern_of(i)) for i in range(512)])
    return table, cornerness


def medial_axis(mask: np.ndarray, seed: int = MEDIAL_AXIS_SEED) -> np.ndarray:
    """The medial axis of `mask`, identical to ``skimage.morphology.medial_axis(mask, rng=seed)``.

    Same algorithm and the same tie-breaking permutation as skimage (pixels processed by
    distance to the background, then cornerness, then a permutation drawn from
    ``np.random.default_rng(seed)``); the lookup tables are cached across calls, the distance
    transform is OpenCV's exact one and the three sort keys are packed into one (same
    order); the tests check equality with skimage. Arrays with a side >= 2048 px, and
    arrays without a background pixel, go to skimage directly. Pixels outside the array
    are *not* background for the distance transform (skimage's behaviour): pad the mask
    with False first to treat the array border as background.

    Args:
        mask: (H, W), bool or any type whose non-zero values are foreground.
        seed: int seed of the tie-breaking permutation (default MEDIAL_AXIS_SEED).

    Returns:
        (H, W) bool skeleton, a subset of `mask`.
    """
    mask = np.asarray(mask, dtype=bool)
    tables = _medial_axis_tables()
    # Without a background pixel in the array skimage's distances (scipy's EDT) are not
    # distances to the background at all and OpenCV's are infinite: leave it to skimage.
    if tables is None or mask.all() or max(mask.shape) >= 2 ** 11:
        from skimage.morphology import medial_axis as sk_medial_axis
        skeleton: np.ndarray = sk_medial_axis(mask, rng=seed)  # type: ignore[no-untyped-call]
        return skeleton
    sk = _skimage_private()
    table, cornerness = tables
    ii, jj = np.nonzero(mask)
    count = len(ii)
    # Squared Euclidean distance to the background, exact integers. Ordering by it is the
    # same as skimage's ordering by ndimage.distance_transform_edt (sqrt is monotone and
    # distinct integers have distinct square roots in float64); OpenCV's DIST_MASK_PRECISE
    # transform is exact and much faster (float32 squares of distances < 2^11 px round
    # back to the exact integers).
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dist2 = np.round(dist[ii, jj].astype(np.float64) ** 2).astype(np.int64)
    corner_score = sk._table_lookup(mask, cornerness)[ii, jj]      # int64, 0..9
    tiebreaker = np.random.default_rng(seed).permutation(np.arange(count))
    # skimage: np.lexsort((tiebreaker, corner_score, distance)). The tiebreaker is a
    # permutation, so the keys are distinct and one combined int64 key gives the same order.
    order = np.argsort((dist2 * 16 + corner_score) * count + tiebreaker)
    result = mask.astype(np.uint8)
    sk._skeletonize_loop(result, np.ascontiguousarray(ii), np.ascontiguousarray(jj),
                         np.ascontiguousarray(order, dtype=np.int32), table)
    return result.astype(bool)


# ---------------------------------------------------------------------------------------
# Radius-neighbour graph (Alg. 1 line 3)
# ---------------------------------------------------------------------------------------

def radius_graph_edges(points: np.ndarray,
                       radius: float = DEFAULT_RADIUS) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Edges of the radius-neighbour graph over `points`.

    Args:
        points: (N, 2) float or int (y, x) pixel coordinates; node k is points[k].
        radius: neighbourhood radius in pixels (> 0); pairs at Euclidean distance
            <= radius + RADIUS_EPS are joined.

    Returns:
        (i, j, w): int64 (E,) node indices with i < j, sorted by (i, j), and float64 (E,)
        Euclidean edge lengths in pixels.

    Raises:
        ValueError: radius <= 0.
    """
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius}")
    pts = np.asarray(points, dtype=np.float64)
    ipts = np.round(pts).astype(np.int64)
    pairs = None
    if len(pts) and DEFAULT_RADIUS - RADIUS_EPS <= radius < 2.0 and np.array_equal(ipts, pts):
        pairs = _eight_neighbour_pairs(ipts)            # None when a point repeats
    if pairs is None:
        pairs = cKDTree(pts).query_pairs(radius + RADIUS_EPS, output_type="ndarray")
    pairs = np.sort(pairs.astype(np.int64))             # each row: (smaller, larger) node
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i, j = pairs[:, 0], pairs[:, 1]
    w = np.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1])
    return i, j, w


def _eight_neighbour_pairs(ipts: np.ndarray) -> np.ndarray | None:
    """(E, 2) index pairs of integer points that are 8-neighbours; None if a point repeats.

    For distinct integer pixels and sqrt(2) <= radius < 2 the radius graph is exactly the
    8-neighbourhood (the next distance is 2), found here by sorted linear indices instead of
    a k-d tree (same edges; the tests compare both). Repeated points (at distance 0) are
    left to the k-d tree.
    """
    x = ipts[:, 1] - ipts[:, 1].min()                   # columns 0..X
    width = int(x.max()) + 2                            # column X + 1 stays empty: no wrap
    lin = ipts[:, 0] * width + x
    order = np.argsort(lin)
    ordered = lin[order]
    if np.any(ordered[1:] == ordered[:-1]):
        return None
    out = []
    for off in (1, width - 1, width, width + 1):    # (0, +1), (+1, -1), (+1, 0), (+1, +1)
        want = lin + off
        pos = np.minimum(np.searchsorted(ordered, want), len(ordered) - 1)
        hit = ordered[pos] == want
        out.append(np.stack([np.flatnonzero(hit), order[pos[hit]]], axis=1))
    return np.concatenate(out)


def _adjacency(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> sparse.csr_matrix:
    """(n, n) symmetric CSR matrix with weights w on (i, j) and (j, i)."""
    return sparse.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]),
                                                       np.concatenate([j, i]))), shape=(n, n))


# ---------------------------------------------------------------------------------------
# Cycle removal (Alg. 1 lines 4-11)
# ---------------------------------------------------------------------------------------

def edge_order(i: np.ndarray, j: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rank of every edge in the strict total order (weight, min node, max node), 1-based.

    This order is the tie rule of the cycle removal: "the heaviest edge of a cycle" is the
    edge of highest rank, i.e. the heaviest, and among equally heavy edges the one whose
    (smaller, larger) node pair is lexicographically largest.

    Returns:
        int64 (E,) ranks, a permutation of 1..E.
    """
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((hi, lo, w))
    rank = np.empty(len(w), dtype=np.int64)
    rank[order] = np.arange(1, len(w) + 1)
    return rank


def minimum_spanning_forest(n: int, i: np.ndarray, j: np.ndarray,
                            w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove every cycle, per connected sub-graph (Alg. 1 lines 4-11), deterministically.

    Rule: "repeatedly find a cycle and remove its heaviest edge", with ties broken by the
    strict total order of ``edge_order``. Its result is computed here as the minimum
    spanning forest (MSF) under that order.

    Proof of equivalence. Under a strict total order on the edges the MSF of a graph G is
    unique, and by the cycle property the maximum edge of any cycle of G is not in it.
    (a) Removing the maximum edge e of a cycle of G gives G' = G - e, which has the same
    connected components (the rest of the cycle still joins e's ends) and still contains
    MSF(G); MSF(G) is then a spanning forest of G' and is minimal there (every spanning
    forest of G' is one of G), so MSF(G') = MSF(G). (b) The loop stops when no cycle is
    left, i.e. at a forest F that spans the components of G and contains MSF(G); a forest
    spanning the same components has the same number of edges (n - #components), so
    F = MSF(G). Hence the loop returns MSF(G) whatever cycles FINDCYCLE happens to return
    and in whatever order; the tests run the literal loop (NetworkX ``find_cycle``) and
    check that both give the same edge set.

    Implementation: the edges get their ranks (1..E, all distinct) as weights, so the MSF is
    unique and scipy's ``minimum_spanning_tree`` (which returns a spanning forest for a
    disconnected graph) must return exactly it.

    Args:
        n: number of nodes.
        i, j, w: (E,) edges (i < j) and their weights (float, >= 0).

    Returns:
        (i, j, w) of the forest's edges, i < j, sorted by (i, j).
    """
    rank = edge_order(i, j, w)
    # scipy reads the int64 ranks as float64 (exact below 2**53); no edge, no forest edge
    msf = csgraph.minimum_spanning_tree(sparse.csr_matrix((rank, (i, j)), shape=(n, n)))
    edge_of_rank = np.empty(len(w), dtype=np.int64)
    edge_of_rank[rank - 1] = np.arange(len(w))
    keep = np.zeros(len(w), dtype=bool)
    keep[edge_of_rank[msf.tocoo().data.astype(np.int64) - 1]] = True
    ki, kj, kw = i[keep], j[keep], w[keep]
    korder = np.lexsort((kj, ki))
    ki, kj, kw = ki[korder], kj[korder], kw[korder]
    return ki, kj, kw


# ---------------------------------------------------------------------------------------
# Longest shortest path (Alg. 1 lines 12-17)
# ---------------------------------------------------------------------------------------

def _path_from_predecessors(pred: np.ndarray, end: int) -> np.ndarray:
    path = [end]
    while pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    return np.array(path[::-1], dtype=np.int64)


def _farthest_per_component(labels: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per component label (0..C-1), the node of largest `dist`; ties: the lowest node."""
    n = len(labels)
    order = np.lexsort((np.arange(n), -dist, labels))
    first = np.ones(n, dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    return order[first]


def longest_path_in_forest(n: int, i: np.ndarray, j: np.ndarray,
                           w: np.ndarray) -> tuple[np.ndarray, float]:
    """The longest shortest path of a weighted forest, as a tree diameter.

    In a tree every pair of nodes is joined by exactly one path, so the longest shortest
    path (Alg. 1 lines 12-17) is the tree's weighted diameter, found with two traversals:
    from any node r the farthest node a is an end of a diameter (standard lemma, valid for
    non-negative weights), and the farthest node from a is the other end b. All components
    are traversed together: one multi-source Dijkstra from one root per component (the
    component's lowest node), then one from every component's `a`. The answer is the
    component with the longest diameter (ties: the component with the lowest node); ties
    between equally far nodes go to the lowest node number.

    Args:
        n: number of nodes (>= 1).
        i, j, w: (E,) the forest's edges and their non-negative lengths (px). The input must
            be acyclic (use ``minimum_spanning_forest`` first).

    Returns:
        (path, length): int64 (K,) node indices from a to b (K >= 1; a single node when
        there is no edge), and the path length in pixels (float).

    Raises:
        ValueError: n < 1, or the graph has a cycle.
    """
    if n < 1:
        raise ValueError("the graph has no node")
    adj = _adjacency(n, i, j, w)
    ncomp, labels = csgraph.connected_components(adj, directed=False)
    if len(w) != n - ncomp:     # a forest has n - (number of trees) edges
        raise ValueError("the graph is not a forest (it has a cycle)")
    roots = _farthest_per_component(labels, np.zeros(n))
    d1 = csgraph.dijkstra(adj, directed=False, indices=roots, min_only=True)
    ends_a = _farthest_per_component(labels, d1)
    d2, pred, _ = csgraph.dijkstra(adj, directed=False, indices=ends_a, min_only=True,
                                   return_predecessors=True)
    ends_b = _farthest_per_component(labels, d2)
    diam = d2[ends_b]
    best = int(np.argmax(diam))        # first maximum = component with the lowest node
    b = int(ends_b[best])
    return _path_from_predecessors(pred, b), float(diam[best])


def longest_path_every_node(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray,
                            chunk: int = 256) -> tuple[np.ndarray, float]:
    """The literal Alg. 1 lines 12-17 (test oracle and benchmark baseline): a single-source
    shortest-path search from every node, keeping the longest path found.

    Works on any graph with non-negative weights (not only forests). O(n) Dijkstra runs.
    Ties: the first source (lowest node), then the lowest end node.

    Args:
        n, i, j, w: as for ``longest_path_in_forest``.
        chunk: sources per Dijkstra call (memory: chunk * n floats).

    Returns:
        (path, length) as for ``longest_path_in_forest``.
    """
    if n < 1:
        raise ValueError("the graph has no node")
    adj = _adjacency(n, i, j, w)
    length = np.empty(n)                # per source: the distance to its farthest node
    for start in range(0, n, chunk):
        src = np.arange(start, min(n, start + chunk))
        dist = csgraph.dijkstra(adj, directed=False, indices=src)
        length[src] = np.max(dist, axis=1, where=np.isfinite(dist), initial=0.0)
    best = int(np.argmax(length))       # first maximum: the lowest source
    dist, pred = csgraph.dijkstra(adj, directed=False, indices=best, return_predecessors=True)
    reach = np.flatnonzero(np.isfinite(dist))
    end = int(reach[np.argmax(dist[reach])])    # first maximum: the lowest end node
    return _path_from_predecessors(pred, end), float(length[best])


def skeleton_longest_path(skeleton: np.ndarray, radius: float = DEFAULT_RADIUS,
                          method: str = "diameter") -> tuple[np.ndarray, float]:
    """Alg. 1 lines 3-17 on a skeleton mask: radius graph, cycle removal, longest path.

    Args:
        skeleton: (H, W) bool with at least one True pixel.
        radius: neighbourhood radius in pixels.
        method: "diameter" (two traversals) or "every_node" (the literal loop).

    Returns:
        (points, length): float64 (K, 2) (y, x) pixel coordinates of the path's nodes in path
        order (K >= 1), and its length in pixels.

    Raises:
        ValueError: an empty skeleton or an unknown method.
    """
    pts = np.argwhere(skeleton)
    if len(pts) == 0:
        raise ValueError("empty skeleton")
    i, j, w = radius_graph_edges(pts, radius)
    fi, fj, fw = minimum_spanning_forest(len(pts), i, j, w)
    if method == "diameter":
        path, length = longest_path_in_forest(len(pts), fi, fj, fw)
    elif method == "every_node":
        path, length = longest_path_every_node(len(pts), fi, fj, fw)
    else:
        raise ValueError(f"unknown method {method!r}; use 'diameter' or 'every_node'")
    return pts[path].astype(np.float64), length


def skeleton_path(region: np.ndarray, radius: float = DEFAULT_RADIUS,
                  seed: int = MEDIAL_AXIS_SEED, method: str = "diameter") -> np.ndarray:
    """Alg. 1 lines 2-17 on a region: medial axis (the region padded by one background
    pixel, so the image border counts as background), then ``skeleton_longest_path``.

    Args:
        region: (H, W) bool, non-empty.
        radius: neighbourhood radius in pixels.
        seed: medial-axis tie-breaking seed.
        method: "diameter" or "every_node".

    Returns:
        float64 (K, 2) (y, x) path pixels, K >= 1. (The medial axis of a non-empty region
        is non-empty: the thinning never deletes a pixel with fewer than 3 region pixels in
        its 3x3 neighbourhood, so the last pixel of a component, which is isolated, stays.)

    Raises:
        ValueError: an empty region or an unknown method.
    """
    skel = medial_axis(np.pad(region, 1), seed)[1:-1, 1:-1]
    points, _ = skeleton_longest_path(skel, radius, method)
    return points
