import Testing
@testable import FaceRPCImage
