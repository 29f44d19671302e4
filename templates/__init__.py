# SPDX-License-Identifier: Apache-2.0
"""The delivery README templates of zoo (templates/delivery_doc/)."""
