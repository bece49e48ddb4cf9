#!/usr/bin/env bash
# Post, or edit in place, the pull request comment holding one stack's offline plan result
# (`cicd diff` and `cicd plan --check`, docs/plan-and-policy.md). Used by preview.yml for pull
# requests from this repository and by preview-comment.yml for pull requests from forks.
#
#   offline-plan-comment.sh PR_NUMBER STACK REPORT_FILE
#
# Needs `gh` with GH_TOKEN (pull-requests: write) and GITHUB_REPOSITORY. The comment starts with
# the marker <!-- offline-plan:STACK -->; only a comment of github-actions[bot] with that marker
# is edited, so nobody's own comment is ever overwritten.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 PR_NUMBER STACK REPORT_FILE" >&2
  exit 2
fi
pr=$1 stack=$2 report=$3
if ! [[ $pr =~ ^[0-9]+$ ]]; then
  echo "::error::not a pull request number: ${pr}"
  exit 1
fi
if ! [[ $stack =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "::error::not a stack name: ${stack}"
  exit 1
fi

marker="<!-- offline-plan:${stack} -->"
# A comment holds at most 65,536 characters; the report says how to see the rest.
body=$(head -c 60000 "$report")
if [[ $body != "$marker"* ]]; then
  body="${marker}"$'\n'"${body}"
fi

existing=$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/${pr}/comments" \
  --jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"${marker}\"))) | .id" |
  head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${existing}" -f body="$body" >/dev/null
  echo "edited comment ${existing} on #${pr} (${stack})"
else
  gh api --method POST "repos/${GITHUB_REPOSITORY}/issues/${pr}/comments" -f body="$body" >/dev/null
  echo "commented on #${pr} (${stack})"
fi
