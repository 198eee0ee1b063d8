"""Nothing changes for users: 20 steps of the MLP, the Fashion-MNIST CNN and
ResNet-18 (32 x 32, activations in NCHW) give the losses recorded in
test/golden from the main of 2026-11-27 (before the execution IR), and
ResNet-18 with activations blocked by 8 those recorded on 2026-12-07 (when
blocked layouts came), to 1e-6 relative. A regression check beside, not
instead of, the comparisons with PyTorch."""
from conftest import DLC
from dlc_tools import golden_losses


def test_losses_match_the_golden_files(capsys):
    status = golden_losses.main(["check", "--dlc", str(DLC)])
    assert status == 0, capsys.readouterr().out
