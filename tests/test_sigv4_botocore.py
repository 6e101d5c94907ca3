"""The S3 SigV4 expectations in tests/test-sigv4.c are botocore's.

tests/tools/gen-s3-sigv4-cases.py signs the S3 cases with Debian's botocore
and the C test compares our signer with the constants it printed. Here the
cases are signed by botocore again, now, and every Authorization value and
presigned query must appear verbatim in tests/test-sigv4.c: the constants
were not edited by hand, and the case list in the script and in the C file
agree.
"""
import importlib.util
import os

import rcxtest


def load_generator():
    path = os.path.join(rcxtest.SOURCE_DIR, "tests", "tools",
                        "gen-s3-sigv4-cases.py")
    spec = importlib.util.spec_from_file_location("gen_s3_sigv4_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BotocoreConstants(rcxtest.TestCase):
    def setUp(self):
        super().setUp()
        self.gen = load_generator()
        with open(os.path.join(rcxtest.SOURCE_DIR, "tests", "test-sigv4.c"),
                  encoding="utf-8") as f:
            self.c_source = f.read()

    def test_header_cases(self):
        self.assertGreaterEqual(len(self.gen.HEADER_CASES), 8)
        for case in self.gen.HEADER_CASES:
            with self.subTest(case=case[0]):
                authorization, payload_hash = self.gen.sign_header(case)
                self.assertIn(self.gen.c_string(case[0]), self.c_source)
                self.assertIn(self.gen.c_string(authorization), self.c_source)
                self.assertIn(self.gen.c_string(payload_hash), self.c_source)

    def test_presign_cases(self):
        self.assertGreaterEqual(len(self.gen.PRESIGN_CASES), 2)
        for case in self.gen.PRESIGN_CASES:
            with self.subTest(case=case[0]):
                query = self.gen.sign_query(case)
                self.assertIn("X-Amz-Signature=", query)
                self.assertIn(self.gen.c_string(query), self.c_source)

    def test_fixed_inputs(self):
        for name, value in (("S3_ACCESS_KEY", self.gen.ACCESS_KEY),
                            ("S3_SECRET_KEY", self.gen.SECRET_KEY),
                            ("S3_TOKEN", self.gen.TOKEN)):
            self.assertIn("#define %s %s" % (name, self.gen.c_string(value)),
                          self.c_source)
        self.assertIn('#define S3_TIMESTAMP "%s"'
                      % self.gen.TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      self.c_source)


if __name__ == "__main__":
    rcxtest.main()
