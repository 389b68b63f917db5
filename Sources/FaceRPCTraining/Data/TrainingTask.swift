// Temporary copy of the contract's definition (issue 5) so that the data layer
// builds on its own; the trainer's Network/TrainingTypes.swift owns it and this
// file is dropped at merge.

/// What a Levi-Hassner network is trained to predict.
public enum TrainingTask: String, Sendable, Codable, CaseIterable { case age, gender
    public var classes: Int { self == .age ? 8 : 2 } }
