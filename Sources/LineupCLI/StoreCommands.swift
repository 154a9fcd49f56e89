import ArgumentParser
import Lineup

// The store commands of API.md §2. They work on an on-disk store, which arrives with the
// on-disk engine; until then each parses its arguments and reports that it is not available.

/// Options every command that opens a store shares.
struct StoreOptions: ParsableArguments {
    @Argument(help: "The store's path.")
    var store: String

    @Option(name: .customLong("passphrase-file"), help: "A file holding the store's passphrase.")
    var passphraseFile: String?
}

func notYetAvailable(_ command: String) throws -> Never {
    try reportingErrors {
        throw LineupError(.featureNotSupported,
                          "'lineup \(command)' needs the on-disk store, which is not available in this version")
    }
}

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a store (if needed) and a collection.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option var model: String = "TFV5_2"
    @Option var compression: String = "none"
    @Flag var encrypt = false
    func run() throws { try notYetAvailable("create") }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Bulk-enroll a .npy array of vectors with a file of identities.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option var vectors: String
    @Option var identities: String
    func run() throws { try notYetAvailable("import") }
}

struct EnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Enroll JSON lines from standard input, printing each UUID once durable.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    func run() throws { try notYetAvailable("enroll") }
}

struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify", abstract: "Identify each probe of a .npy array; one JSON line per probe.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option var probes: String
    @Option var top: Int = 1
    @Option var threshold: Float = 0.4
    func run() throws { try notYetAvailable("identify") }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove by UUID or by identity, printing the count.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option var uuid: String?
    @Option var identity: String?
    func run() throws { try notYetAvailable("remove") }
}

struct CollectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "collections", abstract: "List the collections, one name a line.")
    @OptionGroup var storeOptions: StoreOptions
    func run() throws { try notYetAvailable("collections") }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "A collection's metadata.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Flag var json = false
    func run() throws { try notYetAvailable("info") }
}

struct IdentitiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identities", abstract: "A collection's UUID → identity map.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Flag var json = false
    func run() throws { try notYetAvailable("identities") }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check every checksum, tag and cross-reference.")
    @OptionGroup var storeOptions: StoreOptions
    func run() throws { try notYetAvailable("verify") }
}

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Rewrite segments without removed Faceprints.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String?
    func run() throws { try notYetAvailable("compact") }
}

struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rekey", abstract: "Change an encrypted store's passphrase.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("new-passphrase-file")) var newPassphraseFile: String
    func run() throws { try notYetAvailable("rekey") }
}
