"""The zoo layer's fetching side: the zoo cache, downloads, Hub files, backbone weights, the authors' releases.

Nothing here is imported by the model modules; `ezclip_zoo.load` and `create_model` use it to turn a name into
local files before the model is built. The public names are re-exported by ``ezclip_zoo`` itself.
"""
