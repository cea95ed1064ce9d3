import discord
from discord.ext import commands

DISCORD_BOT_TOKEN = "MTM2Nzg4Mjc2MDI5OTQwNTgzNQ.d-ddoo.Y-9tNghqh1WdZ-GU-04NHoVq-Xir1lruVOBVud"

intents = discord.Intents.default()
intents.message_content = True
bot = commands.Bot(command_prefix="!", intents=intents)


@bot.command()
async def status(ctx):
    await ctx.send("ledger is up")


if __name__ == "__main__":
    bot.run(DISCORD_BOT_TOKEN)
