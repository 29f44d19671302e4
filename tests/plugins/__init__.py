# SPDX-License-Identifier: Apache-2.0
"""Model plugins the tests register in-process."""
