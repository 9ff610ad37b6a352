#if canImport(Glibc)
import Glibc
#endif

/// The fuzz targets, by the name `traced-fuzz` and `scripts/fuzz` take.
enum FuzzTarget: String, CaseIterable, Sendable {
    case producerMessages = "producer-messages"
    case controlMessages = "control-messages"
    case bufferConsumer = "buffer-consumer"
    case traceFile = "trace-file"
    case elfFile = "elf-file"
    case kernelRing = "kernel-ring"

    func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .producerMessages: ProducerMessagesTarget.run(data)
        case .controlMessages: ControlMessagesTarget.run(data)
        case .bufferConsumer: BufferConsumerTarget.run(data)
        case .traceFile: TraceFileTarget.run(data)
        case .elfFile: ElfFileTarget.run(data)
        case .kernelRing: KernelRingTarget.run(data)
        }
    }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Where the fuzzer build keeps the target between its initialization
    /// and its inputs: an environment variable, so processes libFuzzer
    /// starts itself (-fork, -minimize_crash) fuzz the same target.
    static let environmentKey = "TRACED_FUZZ_TARGET"

    /// The target the environment names, set once before the first input.
    static let selected: FuzzTarget? = getenv(environmentKey).flatMap { FuzzTarget(rawValue: String(cString: $0)) }
}
