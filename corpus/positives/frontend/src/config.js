// Runtime configuration for the storefront.
// NOTE: moved to env vars in the next release, see PLAT-2291.

const config = {
  apiBaseUrl: "https://api.storefront.internal/v2",
  sentryDsn: "https://208d60d0b7a32cdb89ca356c0f75615b@o4054719.ingest.us.sentry.io/1636638",
  openaiApiKey: "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",
  figmaToken: "figd_DbIrhPNXEiBivQKq68q7zI8WhaSZTO-m9MiMFpOB",
  featureFlags: {
    newCheckout: true,
    recommendations: false,
  },
};

export default config;
