const TelegramBot = require("node-telegram-bot-api");

const bot = new TelegramBot("6186638837:AAkZxkTdNqTQC8rWSLgbkIEPzMIrwyUIFNN", { polling: true });

bot.onText(/\/status/, (msg) => {
  bot.sendMessage(msg.chat.id, "ledger is up");
});
