#!/bin/sh
# Posts the nightly backup status to #ops and to the community Discord.
STATUS="${1:-ok}"
SLACK_WEBHOOK_URL="https://hooks.slack.com/services/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"
DISCORD_WEBHOOK_URL="https://discord.com/api/webhooks/1895752424271635540/G-iwkmAuPyNoReZMl3qfhrCU36Vx1JyixrGYF4or3NcaakFyN3eMa-dZBd5zmWuibHJn"

payload=$(printf '{"text": "nightly backup: %s"}' "$STATUS")
curl -s -X POST -H 'Content-type: application/json' --data "$payload" "$SLACK_WEBHOOK_URL"
curl -s -X POST -H 'Content-type: application/json' \
  --data "$(printf '{"content": "nightly backup: %s"}' "$STATUS")" "$DISCORD_WEBHOOK_URL"
