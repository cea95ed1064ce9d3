param(
    [string]$Configuration = "Release"
)

$ErrorActionPreference = "Stop"
$env:AZURE_DEVOPS_EXT_PAT = "765uimefahwjdh4h3kaiwdscme5amnm7mdkdxox33vwgupwe3q6a"

dotnet pack src/Orbit.Ledger.Client -c $Configuration -o artifacts
dotnet nuget push "artifacts/*.nupkg" --api-key oy2fpp20plgl62c0df13bvscg1qxh2nvff56v9z92p5ckj --source https://api.nuget.org/v3/index.json
az artifacts universal publish --organization https://dev.azure.com/orbit-ledger --feed tools --name ledger-cli --version 1.4.0 --path artifacts
