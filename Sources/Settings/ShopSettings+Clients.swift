import Postgres
import Redis

// Client configurations derived from settings, so that every role connects the same way.
extension ShopSettings {
    public var postgresConfiguration: PostgresConfiguration {
        PostgresConfiguration(
            host: postgres.host,
            port: postgres.port,
            database: postgres.database,
            user: postgres.user,
            password: postgres.password,
            connectTimeoutSeconds: postgres.connectTimeoutSeconds,
            statementTimeoutMilliseconds: postgres.statementTimeoutMilliseconds)
    }

    public var redisConfiguration: RedisConfiguration {
        RedisConfiguration(
            host: redis.host,
            port: redis.port,
            password: redis.password,
            commandTimeoutMilliseconds: redis.commandTimeoutMilliseconds)
    }
}
