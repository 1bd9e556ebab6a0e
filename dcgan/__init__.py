"""DCGAN Studio: train, watch, explore and score DCGANs (Radford et al., 2015).

The library never imports gradio; the app's tabs live in `dcgan.ui`.
"""
__version__ = "0.3.0"
