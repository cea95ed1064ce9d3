#!/usr/bin/env bash
# Rolls the ledger API out to the staging cluster.
set -euo pipefail

IMAGE_TAG="${1:?usage: deploy.sh <tag>}"
DEPLOY_API="https://deploy.orbit-ledger.internal/api/v1"

export VAULT_ADDR="https://vault.orbit-ledger.internal:8200"
export VAULT_TOKEN="hvs.CAESI69CmLEKoRo8bR1uhrA5gcF7kO81pb80Hf1PhvxaS29mJ57zFovlGwZh7p1ne684t5grZ9vZ_LSSU4QzdX8BJIb"
DB_URL="$(vault kv get -field=url secret/ledger/db)"

export FLY_API_TOKEN="fo1_dJw0jqNz6EdF4swSWxvSe_lySUv8mxfReihw0f7UrxU"

curl -fsS -X POST "$DEPLOY_API/releases" \
  -H "Content-Type: application/json" \
  -H "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IkxQbHNfUWJKcEl0d2MzRVd2SzlqcXp4TnFkNGRESHZnWjI0ZDhiNEItM28iLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2F1dGgub3JiaXQtbGVkZ2VyLmludGVybmFsIiwic3ViIjoic3ZjLWRlcGxveWVyIiwiYXVkIjoiZGVwbG95LWFwaSIsInNjb3BlIjoiZGVwbG95OndyaXRlIiwiaWF0IjoxNzYzODU2MDAwLCJleHAiOjE3OTUzOTIwMDB9.EbehkspLAYbhFiyn_S5V2HWTgq1TzEt-65VkLBtJc2JRjgxja2lQr209nCAsPhntBUaxZzU5iFUbHn8_S0wk3vJaS9uxK4Yapuqb09EfMpNYpYVC1FHXRkrEhCNevBCfw_S9u2YgblEd5aUS1zRHZpuac9nidx31wV5fo0CYkTZm-Qq0BAs65_3tlaOjN1mVetIHcsqfAGzRnvyM8cmkb2oHRK8g8N2UmImDPb1T4bKzrGOWSEwBKSM3Fa6bDWnL1k07ucP8nGHqfIfsqUxNEYKb4ksyPS1Py26XzcRukOxiqHR5qIh-pG7uutfk4wRmZYbPwsFfqjQrEguEIutTzg" \
  -d "{\"service\": \"ledger-api\", \"tag\": \"$IMAGE_TAG\"}"

echo "deployed $IMAGE_TAG"
