# SPDX-License-Identifier: Apache-2.0
"""zoo-digits: digit classification on generated glyphs, an example zoo plugin outside the core."""
