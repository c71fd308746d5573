"""The README's example runs as written and prints what it promises."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_python_example_runs(tmp_path):
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "b and c both hold 13 - a was crashed"


def test_the_two_setup_commands_open_the_readme():
    lines = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().splitlines()
    block = lines[lines.index("```") + 1:lines.index("```") + 3]
    assert block == ["pip install -e . && python run_group.py",
                     "pip install -e '.[test]' && pytest"]
