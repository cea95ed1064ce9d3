import twilio from "twilio";

// Programmable Messaging credentials for the orders notifier.
export const twilioConfig = {
  accountSid: "AC11420a85d014b567557d391c37f26e12",
  apiKeySid: "SKda4cad8c06d00ee8ed0f6bc7e0183f3a",
  apiSecret: "bB1vexD1D2jYIXl2gnfg9mZg7tG1tyZP",
  from: "+15017122661",
};

const client = twilio(twilioConfig.apiKeySid, twilioConfig.apiSecret, {
  accountSid: twilioConfig.accountSid,
});

export async function sendOrderShipped(to: string, orderId: string): Promise<void> {
  await client.messages.create({
    from: twilioConfig.from,
    to,
    body: `Your order ${orderId} has shipped.`,
  });
}
