"""Python helpers for dlc: model export and PyTorch reference checks."""
