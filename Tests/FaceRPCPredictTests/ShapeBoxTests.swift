import FaceRPCImage
@testable import FaceRPCPredict
import Testing

/// Where the landmark model's box goes: dlib's detector box, from an MTCNN
/// box (first pass) and from the first pass's landmarks (second pass).
@Suite struct ShapeBoxTests {
    /// A frontal face: eye corners level, nose below their middle.
    let face: [Point2] = [Point2(x: 40, y: 50), Point2(x: 50, y: 50), Point2(x: 70, y: 50), Point2(x: 80, y: 50),
                          Point2(x: 60, y: 70)]

    @Test func landmarkBoxFollowsTheFittedGeometry() throws {
        let box = try #require(ShapeBox.fromLandmarks(face))
        // Eye centres 30 px apart; centroid (60, 54); dlib's box sits lower
        // than the landmarks' centroid (it spans brow to chin) and is about
        // 2.3 eye distances wide.
        let k = ShapeBox.fromLandmarks
        #expect(abs((box.x + box.width / 2) - (60 + k.dx * 30)) <= 1)
        #expect(abs((box.y + box.height / 2) - (54 + k.dy * 30)) <= 1)
        #expect(abs(box.width - k.width * 30) <= 1 && abs(box.height - k.height * 30) <= 1)
        // Whole pixels, as dlib rectangles are.
        #expect(box.x == box.x.rounded() && box.width == box.width.rounded())
    }

    @Test func landmarkBoxMovesAndScalesWithTheFace() throws {
        let box = try #require(ShapeBox.fromLandmarks(face))
        let moved = try #require(ShapeBox.fromLandmarks(face.map { Point2(x: $0.x + 100, y: $0.y + 37) }))
        #expect(moved.x == box.x + 100 && moved.y == box.y + 37 && moved.width == box.width && moved.height == box.height)
        let doubled = try #require(ShapeBox.fromLandmarks(face.map { Point2(x: 2 * $0.x, y: 2 * $0.y) }))
        #expect(abs(doubled.width - 2 * box.width) <= 1 && abs(doubled.height - 2 * box.height) <= 1)
    }

    @Test func otherLandmarkModelsAndDegenerateFacesKeepTheFirstPass() {
        #expect(ShapeBox.fromLandmarks(Array(face.prefix(4))) == nil)
        #expect(ShapeBox.fromLandmarks(face + face) == nil)
        let oneEye = [Point2](repeating: Point2(x: 10, y: 10), count: 5)
        #expect(ShapeBox.fromLandmarks(oneEye) == nil)
    }

    @Test func faceCropsUseTheWholeImage() {
        let whole = Rect(x: 0, y: 0, width: 200, height: 200)
        #expect(ShapeBox.forDetection(whole, faceCrop: true) == whole)
    }
}
