import ArgumentParser
import Foundation
import Intake
import Postgres
import Settings
import ShopDomain
import Storage

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administrative tasks.", subcommands: [CreateUser.self, DisableUser.self, SetRole.self, ArchiveDrop.self])

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-user",
            abstract: "Create an account, typically the first operator.",
            discussion: """
                The password comes from --password-file, else the environment variable \
                FASTEST_SHOP_ADMIN_PASSWORD, else standard input (not echoed on a terminal). It is \
                never a flag value, which would land in shell history.
                """)

        @OptionGroup var settings: SettingsOptions
        @Option(help: "Email address of the account.") var email: String
        @Option(help: "customer or operator.") var role: Role = .operator
        @Option(help: "File whose first line is the password.") var passwordFile: String?

        func run() async throws {
            guard let address = EmailAddress(email) else { throw CommandFailure(message: "admin: '\(email)' is not an email address") }
            let password = try readPassword()
            if let issue = PasswordPolicy.issues(password).first {
                throw CommandFailure(message: "admin: the password \(issue.message)")
            }
            let settings = try await settings.load()
            let hasher = try await PasswordHasher(cost: settings.auth.bcryptCost, threads: 1)
            defer { hasher.shutdown() }
            let hash = try await hasher.hash(password)
            let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "admin")
            do {
                let user = try await UserStore(pool: pool).create(email: address, passwordHash: hash, role: role)
                await pool.shutdown()
                print("admin: created \(role.rawValue) \(address) with id \(user.id)")
            } catch is UserStore.EmailTaken {
                await pool.shutdown()
                throw CommandFailure(message: "admin: an account with \(address) already exists")
            } catch let error as PostgresError {
                await pool.shutdown()
                throw CommandFailure(message: "admin: \(error)")
            }
        }

        private func readPassword() throws -> String {
            if let passwordFile { return try readSecret(passwordFile) }
            if let fromEnvironment = ProcessInfo.processInfo.environment["FASTEST_SHOP_ADMIN_PASSWORD"] { return fromEnvironment }
            let terminal = isatty(STDIN_FILENO) == 1
            var saved = termios()
            if terminal {
                FileHandle.standardError.write(Data("Password for \(email): ".utf8))
                tcgetattr(STDIN_FILENO, &saved)
                var silent = saved
                silent.c_lflag &= ~tcflag_t(ECHO)
                tcsetattr(STDIN_FILENO, TCSANOW, &silent)
            }
            defer {
                if terminal {
                    tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                    FileHandle.standardError.write(Data("\n".utf8))
                }
            }
            guard let line = readLine(strippingNewline: true) else {
                throw CommandFailure(message: "admin: no password given (use --password-file, FASTEST_SHOP_ADMIN_PASSWORD or standard input)")
            }
            return line
        }
    }
}

extension Role: ExpressibleByArgument {}
