"""The zoo layer: named architectures and checkpoints, building models, zoo folders, `load` and `push_to_hub`,
and everything that fetches: the zoo cache, downloads, Hub files, backbone weights, the authors' releases and
their conversion. It turns names into local files and hands the model layer only files and configs.

The public names are re-exported by ``ezclip_zoo`` itself.
"""
