import Postgres
import Redis

// Client configurations derived from settings, so that every role connects the same way.
extension ShopSettings {
    /// How every role connects. No cap on the wait for answers: jobs and scheduler ticks retry,
    /// and some of their statements are long by nature (see ``requestPostgresConfiguration``).
    public var postgresConfiguration: PostgresConfiguration {
        PostgresConfiguration(
            host: postgres.host,
            port: postgres.port,
            database: postgres.database,
            user: postgres.user,
            password: postgres.password,
            connectTimeoutSeconds: postgres.connectTimeoutSeconds,
            statementTimeoutMilliseconds: postgres.statementTimeoutMilliseconds,
            servers: postgres.hosts.compactMap(PostgresServer.init(parsing:)),
            targetSessionAttributes: postgres.targetSessionAttributes)
    }

    /// How `serve` connects for requests: a statement waits at most `postgres.reply_timeout_ms`
    /// for its answer, so a hung server costs a request a 503, not the client's patience.
    public var requestPostgresConfiguration: PostgresConfiguration {
        var configuration = postgresConfiguration
        configuration.replyTimeoutMilliseconds = postgres.replyTimeoutMilliseconds > 0 ? postgres.replyTimeoutMilliseconds : nil
        return configuration
    }

    public var redisConfiguration: RedisConfiguration {
        RedisConfiguration(
            host: redis.host,
            port: redis.port,
            password: redis.password,
            commandTimeoutMilliseconds: redis.commandTimeoutMilliseconds,
            clusterSeeds: redis.cluster
                ? (redis.clusterNodes.isEmpty
                    ? [RedisEndpoint(host: redis.host, port: redis.port)]
                    : redis.clusterNodes.compactMap(RedisEndpoint.init(parsing:)))
                : [],
            clusterRetryMilliseconds: redis.clusterRetryMilliseconds)
    }
}
