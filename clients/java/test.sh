#!/usr/bin/env bash
# Builds the Java client, runs its tests and the example against the server in
# TRIBUTARY_ADDR / TRIBUTARY_API_KEY, installs it into the local Maven
# repository, and checks that the README's quick start compiles and runs in a
# new project that depends on it. Run from anywhere; clients/test calls it.
set -euo pipefail
cd "$(dirname "$0")"
: "${TRIBUTARY_ADDR:?set TRIBUTARY_ADDR (eval \"\$(bash clients/serve-for-tests)\")}"
: "${TRIBUTARY_API_KEY:?set TRIBUTARY_API_KEY}"

# Quiet Maven; Debian's Maven 3.8 prints colour resets even in batch mode, strip them.
mvnq() { mvn -B -q "$@" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'; }

# One Maven run: generate, compile, test, run the example, install.
rm -rf target/surefire-reports
mvnq -Prun-example install
python3 - <<'EOF'
import glob, xml.etree.ElementTree as ET
suites = [ET.parse(f).getroot() for f in glob.glob("target/surefire-reports/TEST-*.xml")]
total = sum(int(s.get("tests")) for s in suites)
failed = sum(int(s.get("failures")) + int(s.get("errors")) for s in suites)
skipped = sum(int(s.get("skipped")) for s in suites)
print(f"java: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
EOF

# The quick start, pasted verbatim into a new project outside the repository.
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/src/main/java"
between() { sed -n "/<!-- $1:start -->/,/<!-- $1:end -->/p" README.md | sed '1,/^```/d; /^```$/,$d'; }
between quickstart >"$project/src/main/java/QuickStart.java"
cat >"$project/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>quickstart</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
$(between dependency)
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin>
        <groupId>org.codehaus.mojo</groupId>
        <artifactId>exec-maven-plugin</artifactId>
        <version>3.5.0</version>
        <configuration><mainClass>QuickStart</mainClass></configuration>
      </plugin>
    </plugins>
  </build>
</project>
EOF
(cd "$project" && mvnq compile exec:java) | tee "$project/out.txt"
grep -q 'RUN_STATUS_SUCCEEDED: 1000 records read' "$project/out.txt" || {
  echo "the README quick start did not end with a SUCCEEDED run of 1000 records" >&2
  exit 1
}
echo "java: README quick start ran"
