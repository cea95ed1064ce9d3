ShopifyApp.configure do |config|
  config.application_name = "Orbit Ledger Sync"
  config.api_key = ENV["SHOPIFY_API_KEY"]
  config.secret = "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"
  config.old_secret = ""
  config.scope = "read_orders, read_products"
  config.embedded_app = true
  config.api_version = "2024-10"
end

# Admin API access token for the flagship store (custom app)
SHOPIFY_ADMIN_TOKEN = "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"
