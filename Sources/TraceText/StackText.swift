import TraceAnalysis

/// A stack under a row of a text output: its innermost frames, how many
/// more there are, and for a stack cut at its bound the line that says so
/// (`StackResolver.lines` ends with it), which is not a frame.
enum StackText {
    static func abbreviated(_ stack: [String], frames limit: Int) -> (frames: ArraySlice<String>, more: Int, cut: String?) {
        let note = StackSymbolizer.Frame.cut.description
        let frames = stack.last == note ? stack.dropLast() : stack[...]
        return (frames.prefix(limit), max(frames.count - limit, 0), stack.last == note ? note : nil)
    }
}
