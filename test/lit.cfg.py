# lit configuration for dlc's tests.
import os

import lit.formats

config.name = "dlc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "e2e"]

config.environment["PATH"] = os.pathsep.join(
    [os.path.join(config.dlc_obj_root, "bin"), config.llvm_tools_dir,
     config.environment.get("PATH", os.environ["PATH"])])
