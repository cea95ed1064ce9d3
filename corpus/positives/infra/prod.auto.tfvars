region      = "nyc3"
environment = "prod"
droplet_size = "s-2vcpu-4gb"

do_token             = "dop_v1_e1174fed32ec34ece956d9cd389a0a072ee12d521cb3ea925c8c2511db41a0d7"
cloudflare_api_token = "gRWkhGVFfrx43Y8zccIWifk79Ci5vzm6SOVj0UHR"
cloudflare_zone_id   = "d775b30ee0119ed56d6b6d0ec6a90108"
datadog_app_key      = "18888d6cb9638dd6dcf253d28540c955f3167809"

db_admin_password = "5d-q8rXSIi~+*cqm9~"

tags = ["ledger", "prod"]
