# O2X node image: multi-stage (SDK builds, ASP.NET runtime runs), runs as the image's non-root "app" user.
#   docker build -t o2x .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props O2X.sln ./
COPY src/ src/
RUN dotnet publish src/O2X.Host -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# data/ holds the SQLite journal when no PostgreSQL connection string is configured.
RUN mkdir -p /app/data && chown app:app /app/data
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    O2X__Node__Hostname=0.0.0.0 \
    O2X__Node__Port=4053
EXPOSE 8080 4053
# Ready = Up in the cluster, shard regions started, journal reachable, brokers connected, breakers closed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://localhost:8080/health/ready > /dev/null || exit 1
ENTRYPOINT ["dotnet", "O2X.Host.dll"]
