#!/usr/bin/env bash
# Runs the Apache Chemistry OpenCMIS TCK (Test Compatibility Kit) 1.1.0 over
# the Browser binding against a CMIS server, and judges its report.
#
#   tests/tck.sh URL USER PASSWORD [REPOSITORY_ID]
#   tests/tck.sh --fetch     only fetch the TCK jars (for set-up steps)
#
# URL is the Browser binding service URL (e.g. http://127.0.0.1:8080/browser).
# Groups run: Basics, CRUD, Versioning, Filing.
#
# The TCK's ConsoleRunner always exits 0, so this script reads its text
# report: exit 1 if any result is FAILURE or UNEXPECTED_EXCEPTION (at any
# nesting level) or if the report is missing a group; otherwise exit 0.
# It prints the count of each status and lists every WARNING with its test.
#
# Environment:
#   CMISFS_TCK_DOCUMENT_TYPE  document type the tests create (default
#                             cmis:document); the Versioning group skips
#                             itself unless this type is versionable
#                             (OpenCMIS InMemory: VersionableType)
#   CMISFS_TCK_REPORT         where to write the report (default
#                             .cache/tck/report.txt)
#
# Needs java and mvn; the TCK and its dependencies are fetched once into
# ~/.m2 and copied to .cache/tck/lib (tests/tck/pom.xml lists them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache/tck"
LIB="$CACHE/lib"
POM="$ROOT/tests/tck/pom.xml"
RUNNER=org.apache.chemistry.opencmis.tck.runner.ConsoleRunner
GROUPS_CLASSES=(
    org.apache.chemistry.opencmis.tck.tests.basics.BasicsTestGroup
    org.apache.chemistry.opencmis.tck.tests.crud.CRUDTestGroup
    org.apache.chemistry.opencmis.tck.tests.versioning.VersioningTestGroup
    org.apache.chemistry.opencmis.tck.tests.filing.FilingTestGroup
)
GROUP_TITLES=("Basics Test Group" "CRUD Test Group" "Versioning Test Group" "Filing Test Group")

die() { echo "tck: $*" >&2; exit 1; }

# Fetch the TCK jars unless the copy matches the pom.
fetch_tck() {
    local stamp="$LIB/.pom.sha256" want
    want=$(sha256sum "$POM" | cut -d' ' -f1)
    if [[ -f $stamp && $(cat "$stamp") == "$want" ]] && compgen -G "$LIB/chemistry-opencmis-test-tck-*.jar" >/dev/null; then
        return
    fi
    command -v mvn >/dev/null || die "mvn is missing (needed to fetch the TCK): apt-get install maven"
    rm -rf "$LIB"
    mkdir -p "$LIB" "$CACHE"
    # mvn -q still prints colour resets; its output is shown only on failure.
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIB" >"$CACHE/mvn.log" 2>&1; then
        cat "$CACHE/mvn.log" >&2
        die "mvn could not fetch the TCK (see above)"
    fi
    echo "$want" >"$stamp"
}

if [[ ${1:-} == --fetch ]]; then
    fetch_tck
    exit 0
fi
[[ $# -ge 3 && $# -le 4 ]] || die "usage: $0 URL USER PASSWORD [REPOSITORY_ID]"
URL=$1 USER_NAME=$2 PASSWORD=$3 REPO_ID=${4:-}
DOC_TYPE=${CMISFS_TCK_DOCUMENT_TYPE:-cmis:document}
REPORT=${CMISFS_TCK_REPORT:-$CACHE/report.txt}

command -v java >/dev/null || die "java is missing: apt-get install openjdk-17-jre-headless"

fetch_tck
mkdir -p "$(dirname "$REPORT")"
work=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The parameters file holds the password: readable by us only, removed on exit.
(
    umask 077
    {
        echo "org.apache.chemistry.opencmis.binding.spi.type=browser"
        echo "org.apache.chemistry.opencmis.binding.browser.url=$URL"
        echo "org.apache.chemistry.opencmis.user=$USER_NAME"
        echo "org.apache.chemistry.opencmis.password=$PASSWORD"
        [[ -n $REPO_ID ]] && echo "org.apache.chemistry.opencmis.session.repository.id=$REPO_ID"
        echo "org.apache.chemistry.opencmis.tck.default.documentType=$DOC_TYPE"
        echo "org.apache.chemistry.opencmis.tck.default.folderType=cmis:folder"
        echo "org.apache.chemistry.opencmis.tck.default.testFolderParent=/"
    } >"$work/parameters.properties"
)
printf '%s\n' "${GROUPS_CLASSES[@]}" >"$work/groups.txt"

echo "tck: running Basics, CRUD, Versioning, Filing against $URL (document type $DOC_TYPE)"
set +e
java -cp "$LIB/*" "$RUNNER" "$work/parameters.properties" "$work/groups.txt" \
    >"$REPORT" 2>"$work/stderr"
rc=$?
set -e
# SLF4J's "no binding" notice is noise; anything else on stderr is shown.
grep -v '^SLF4J:' "$work/stderr" >&2 || true
((rc == 0)) || die "the TCK runner exited with status $rc (report: $REPORT)"
echo "tck: report written to $REPORT"

for title in "${GROUP_TITLES[@]}"; do
    grep -q "^$title (BROWSER)\$" "$REPORT" || die "the report has no results for '$title': the run broke off (report: $REPORT)"
done

# Count every result line by status; nested lines (details of a result) are
# counted too, as the TCK raises a parent to its worst child.
count() { grep -cE "^ +$1: " "$REPORT" || true; }
declare -A n
for status in OK INFO SKIPPED WARNING FAILURE UNEXPECTED_EXCEPTION; do
    n[$status]=$(count "$status")
done
echo "tck: OK=${n[OK]} INFO=${n[INFO]} SKIPPED=${n[SKIPPED]} WARNING=${n[WARNING]} FAILURE=${n[FAILURE]} UNEXPECTED_EXCEPTION=${n[UNEXPECTED_EXCEPTION]}"

# List WARNING, FAILURE and UNEXPECTED_EXCEPTION lines under their test's name
# (the line between two dashed rules); repeats are shown once with a count.
awk '
    /^-----------+$/ { rule++; next }
    rule % 2 == 1 && !/^ / && NF { test = $0; sub(/ \([0-9]+ ms\)$/, "", test); next }
    /^ +(WARNING|FAILURE|UNEXPECTED_EXCEPTION): / {
        line = $0; sub(/^ +/, "", line)
        key = "[" test "] " line
        if (!(key in seen)) order[++k] = key
        seen[key]++
    }
    END {
        for (i = 1; i <= k; i++)
            printf "tck:   %s%s\n", order[i], (seen[order[i]] > 1 ? " (x" seen[order[i]] ")" : "")
    }
' "$REPORT"

if ((n[FAILURE] > 0 || n[UNEXPECTED_EXCEPTION] > 0)); then
    die "${n[FAILURE]} FAILURE and ${n[UNEXPECTED_EXCEPTION]} UNEXPECTED_EXCEPTION result(s) (report: $REPORT)"
fi
((n[OK] > 0)) || die "the report holds no OK result: the TCK tested nothing (report: $REPORT)"
echo "tck: passed (no FAILURE, no UNEXPECTED_EXCEPTION)"
