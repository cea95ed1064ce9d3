using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace OrderApi.Services;

public sealed class AlertService
{
    private const string SlackBotToken = "xoxb-98791549143-0031949412487-Q0LI0iaRtpOiUo8M5kQDdKm9";
    private const string TeamsWebhookUrl = "https://orbitledger.webhook.office.com/webhookb2/45a148b8-1184-40aa-b27a-dbebfc905e72@8a7c7fbc-dc3c-42da-a44c-a9da895af3f9/IncomingWebhook/b8a2fe45ab379f78e5688c93b2269297/82a0fa23-7c77-4fd3-b36d-bbc1b1bf0be8/V2K42o2yIvUHhbIosSUGCjT-I_h82V8DATvB7r7uWdrQt";

    private readonly HttpClient _http;

    public AlertService(HttpClient http) => _http = http;

    public async Task NotifyAsync(string channel, string text)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "https://slack.com/api/chat.postMessage");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SlackBotToken);
        req.Content = JsonContent.Create(new { channel, text });
        await _http.SendAsync(req);
        await _http.PostAsJsonAsync(TeamsWebhookUrl, new { text });
    }
}
