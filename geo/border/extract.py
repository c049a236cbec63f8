#!/usr/bin/env python3
"""Extracts Vietnam's outline from Natural Earth 1:10m (the npm package
world-atlas@2, file countries-10m.json, public-domain data) into
geo/border/vietnam.json, which the geo package embeds.

Each TopoJSON arc of Vietnam's outline is kept with a flag: an arc that
another country's outline uses too is a land border; one that only Vietnam
uses is coastline. geo accepts points within a small distance of the coast
(the data is quantised to ~200-400 m) but none across a land border.

Rerun:  npm pack world-atlas@2 && tar xzf world-atlas-2.0.2.tgz
        python3 geo/border/extract.py package/countries-10m.json > geo/border/vietnam.json
"""
import json
import sys
from collections import Counter

topo = json.load(open(sys.argv[1]))
sx, sy = topo["transform"]["scale"]
tx, ty = topo["transform"]["translate"]


def decode(i):
    """Absolute lng/lat points of arc i (negative i: reversed arc ~i)."""
    arc = topo["arcs"][i if i >= 0 else ~i]
    x = y = 0
    pts = []
    for dx, dy in arc:
        x += dx
        y += dy
        pts.append((round(x * sx + tx, 5), round(y * sy + ty, 5)))
    return pts if i >= 0 else pts[::-1]


geoms = topo["objects"]["countries"]["geometries"]
use = Counter()
for g in geoms:
    polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]] if g["type"] == "Polygon" else []
    for poly in polys:
        for ring in poly:
            for a in ring:
                use[a if a >= 0 else ~a] += 1

vn = next(g for g in geoms if g.get("properties", {}).get("name") == "Vietnam")
rings = []
for poly in vn["arcs"]:
    for ring in poly:
        pts, coast = [], []
        for a in ring:
            seg = decode(a)
            if pts:
                seg = seg[1:]  # arcs share their end points
            shared = use[a if a >= 0 else ~a] > 1
            pts.extend(seg)
            coast.extend([not shared] * len(seg))
        # coast[k] says whether the edge ending at point k is coastline.
        rings.append({"points": [[x, y] for x, y in pts], "coast": [1 if c else 0 for c in coast]})

json.dump({"source": "Natural Earth 1:10m via world-atlas@2.0.2 countries-10m.json", "rings": rings},
          sys.stdout, separators=(",", ":"))
