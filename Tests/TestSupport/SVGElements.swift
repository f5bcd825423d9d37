import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// One element of an SVG file: its name, attributes and the text directly inside it.
public typealias SVGElement = (name: String, attributes: [String: String], text: String)

/// The elements of an SVG file in document order, for tests that read figures back; fails
/// the calling test when the file is not well-formed XML with an `svg` root.
public func svgElements(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> [SVGElement] {
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [SVGElement] = []
        /// Indices of the elements not yet closed, innermost last: text belongs to that one.
        var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            open.append(elements.count)
            elements.append((name, attributes, ""))
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let innermost = open.last { elements[innermost].text += string }
        }
    }
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = Collector()
    parser.delegate = collector
    let parsed = parser.parse()
    XCTAssertTrue(parsed && parser.parserError == nil, "not well-formed: \(String(describing: parser.parserError))",
                  file: file, line: line)
    XCTAssertEqual(collector.elements.first?.name, "svg", file: file, line: line)
    return collector.elements
}
