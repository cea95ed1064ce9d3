const config = {
  apiBaseUrl: process.env.REACT_APP_API_URL,
  apiKey: process.env.REACT_APP_API_KEY,
  stripePublishableKey: process.env.REACT_APP_STRIPE_PK,
  sentryDsn: process.env.REACT_APP_SENTRY_DSN,
};

export function authHeaders() {
  const token = localStorage.getItem("token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export async function refresh(api) {
  const { access_token, refresh_token } = await api.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: localStorage.getItem("refresh_token"),
  });
  localStorage.setItem("token", access_token);
  localStorage.setItem("refresh_token", refresh_token);
}

export default config;
