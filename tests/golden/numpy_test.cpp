// numpy (the system /usr/bin/python3's) loads every committed array with the
// manifest's shape and dtype, agrees with our checksums, and writes the very
// same bytes back.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "golden/npy.hpp"
#include "tests/golden/temp_dir.hpp"
#include "tests/support/shell.hpp"

namespace bncheck {
namespace {

constexpr const char* python = "/usr/bin/python3";

// Runs a Python script with the system interpreter; returns its exit status and output.
std::pair<int, std::string> run_python(const std::string& script, const std::string& arg) {
  temp_dir tmp;
  const auto path = tmp.path() / "script.py";
  write_file_bytes(path, script);
  const testing::shell_result r = testing::shell(std::string(python) + " " + path.string() + " '" + arg + "'");
  return {r.status, r.output};
}

TEST(numpy, loads_every_committed_array_with_the_manifest_shape_dtype_and_checksum) {
  if (run_python("import numpy\n", "").first != 0)
    GTEST_SKIP() << python << " cannot import numpy (install python3-numpy); numpy interoperability not checked";
  const std::string script = R"(
import glob, hashlib, io, json, os, sys
import numpy as np
corpus = sys.argv[1]
cases = sorted(glob.glob(os.path.join(corpus, "*", "manifest.json")))
assert cases, "no cases under " + corpus
arrays = 0
for manifest in cases:
    case = os.path.dirname(manifest)
    m = json.load(open(manifest))
    files = sorted(f for f in os.listdir(case) if f.endswith(".npy"))
    assert files == sorted(a["file"] for a in m["arrays"]), (case, files)
    for a in m["arrays"]:
        path = os.path.join(case, a["file"])
        raw = open(path, "rb").read()
        x = np.load(path)
        assert list(x.shape) == a["shape"], (path, x.shape, a["shape"])
        assert x.dtype.str == a["npy_descr"], (path, x.dtype.str)
        assert hashlib.sha256(raw).hexdigest() == a["sha256"], path
        out = io.BytesIO()
        np.save(out, x)
        assert out.getvalue() == raw, path + ": numpy writes different bytes"
        if a["dtype"] == "bf16":
            bits = x.view(np.uint32)
            assert not (bits & 0xffff).any(), path + ": not bf16 values"
        arrays += 1
print("checked", len(cases), "cases,", arrays, "arrays")
)";
  const auto [status, out] = run_python(script, committed_corpus().string());
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("checked"), std::string::npos) << out;
}

}  // namespace
}  // namespace bncheck
