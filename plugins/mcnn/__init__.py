"""MCNN crowd counting (Zhang et al., CVPR 2016) on MindSpore: the first zoo model plugin."""
