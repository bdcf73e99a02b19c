import ArgumentParser
import Postgres
import Settings
import ShopDomain
import Storage

extension Admin {
    /// `admin disable-user`: the account can no longer log in, and its tokens stop working
    /// within a minute (when each `serve` next checks the account).
    struct DisableUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable-user",
            abstract: "Disable an account: no more logins, and its access tokens stop working within a minute.")

        @OptionGroup var settings: SettingsOptions
        @Option(help: "Email address of the account.") var email: String

        func run() async throws {
            guard let address = EmailAddress(email) else { throw CommandFailure(message: "admin: '\(email)' is not an email address") }
            let id = try await withAdminPool(settings) { try await UserStore(pool: $0).disable(email: address) }
            guard let id else { throw CommandFailure(message: "admin: no account has \(address)") }
            print("admin: disabled \(address) (id \(id)); its tokens stop working within a minute")
        }
    }

    /// `admin set-role`: tokens issued with the old role stop working within a minute; the
    /// account logs in again to get one with the new role.
    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-role",
            abstract: "Change an account's role; its access tokens stop working within a minute.")

        @OptionGroup var settings: SettingsOptions
        @Option(help: "Email address of the account.") var email: String
        @Option(help: "customer or operator.") var role: Role

        func run() async throws {
            guard let address = EmailAddress(email) else { throw CommandFailure(message: "admin: '\(email)' is not an email address") }
            let id = try await withAdminPool(settings) { [role] in try await UserStore(pool: $0).setRole(email: address, role: role) }
            guard let id else { throw CommandFailure(message: "admin: no account has \(address)") }
            print("admin: \(address) (id \(id)) is now \(role.rawValue); its tokens stop working within a minute")
        }
    }
}

/// Runs `body` with a one-connection pool, closed afterwards; store errors end in one line.
private func withAdminPool<T: Sendable>(
    _ options: SettingsOptions, _ body: @Sendable (PostgresPool) async throws -> T
) async throws -> T {
    let settings = try await options.load()
    let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "admin")
    do {
        let value = try await body(pool)
        await pool.shutdown()
        return value
    } catch let error as PostgresError {
        await pool.shutdown()
        throw CommandFailure(message: "admin: \(error)")
    } catch {
        await pool.shutdown()
        throw error
    }
}
