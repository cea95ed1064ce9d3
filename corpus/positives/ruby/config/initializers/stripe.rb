# frozen_string_literal: true

Rails.configuration.stripe = {
  publishable_key: "pk_live_51UCWWltLXdz3ZtHVqcNnWJWoFlYbv6yP9kUhGwhqtPtHZkx6WMeqj8uIV24rXZrmgZNqjbOMcWtzBKFP52zWDqWYJOvefeHeAh",
  webhook_secret: ENV.fetch("STRIPE_WEBHOOK_SECRET", "whsec_SbiMch3qUhOdy8YYIJBh8ZA7kr7zMIyW")
}

Stripe.api_key = "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"
Stripe.max_network_retries = 2
