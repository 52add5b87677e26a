import Foundation

/// Chooses the parser by the file's extension.
public enum DocumentParser {
    public static func parse(text: String, path: String, rootPath: String) -> Document {
        switch MemoryFormats.format(of: path) {
        case .html: MarkupParser.parse(text: text, path: path, rootPath: rootPath, format: .html)
        case .xml: MarkupParser.parse(text: text, path: path, rootPath: rootPath, format: .xml)
        case .markdown, .text: MarkdownParser.parse(text: text, path: path, rootPath: rootPath)
        }
    }
}
