"""Nothing changes for users: 20 steps of the MLP, the Fashion-MNIST CNN and
ResNet-18 (32 x 32) give the losses recorded in test/golden from the main of
2026-11-27 (before the execution IR), to 1e-6 relative. A regression check
beside, not instead of, the comparisons with PyTorch."""
from conftest import DLC
from dlc_tools import golden_losses


def test_losses_match_the_golden_files(capsys):
    status = golden_losses.main(["check", "--dlc", str(DLC)])
    assert status == 0, capsys.readouterr().out
