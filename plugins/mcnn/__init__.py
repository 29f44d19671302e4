# SPDX-License-Identifier: Apache-2.0
"""MCNN crowd counting (Zhang et al., CVPR 2016) on MindSpore: the first zoo model plugin."""
