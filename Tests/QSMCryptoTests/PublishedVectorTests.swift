import Crypto
import EventLog
import Foundation
@testable import QSMCrypto
import QSMTesting
import Testing

// Known-answer tests from published sources, each run through our own code rather than the library directly.
// Only the vector values are copied; each group names where they were published. What our wrappers cannot
// express is listed in docs/crypto.md ("Published vectors").

/// Argon2id through ``PasswordHasher/verify(_:against:)``: the PHC string carries the published tag, and
/// libsodium recomputes it from the password, so a wrong tag reads as a wrong password.
///
/// RFC 9106 section 5.3 cannot be run here: it uses 4 lanes, a secret and associated data, and our hasher
/// computes one lane with neither. These p=1 vectors are the ones golang.org/x/crypto publishes (an
/// implementation independent of the reference one whose test.c vectors PasswordTests already uses):
/// https://github.com/golang/crypto/blob/master/argon2/argon2_test.go, `testVectors`, mode argon2id,
/// password "password", salt "somesalt", 24-byte tags ("Generated with the CLI of P-H-C/phc-winner-argon2").
@Suite struct PublishedArgon2idTests {
    static let vectors: [(iterations: UInt32, memoryKiB: UInt32, tag: String)] = [
        (1, 64, "655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb"),
        (2, 64, "068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7"),
    ]

    @Test(arguments: 0..<vectors.count)
    func goArgon2idVector(index: Int) throws {
        let vector = Self.vectors[index]
        var stored = PHCString(
            cost: Argon2Cost(memoryKiB: vector.memoryKiB, iterations: vector.iterations), salt: Data("somesalt".utf8))
        stored.hash = hex(vector.tag)
        #expect(try cheapHasher.verify("password", against: stored.text) == .valid(needsRehash: false))
        #expect(try cheapHasher.verify("passwore", against: stored.text) == .invalid)
    }
}

/// AES-256-GCM through ``AESCipher``'s seal and open (the ciphertext-then-tag layout every aes message
/// stores). The public seal takes an HKDF-derived block key, a counter nonce and our message context as
/// associated data, none of which a NIST vector can supply, so these call the internal step they share.
///
/// NIST CAVP, "GCM Test Vectors" (gcmtestvectors.zip, CAVS 14.0), file gcmEncryptExtIV256.rsp, Keylen 256,
/// IVlen 96, Taglen 128, Count 0 of each section named:
/// https://csrc.nist.gov/Projects/Cryptographic-Algorithm-Validation-Program/CAVP-TESTING-BLOCK-CIPHER-MODES
@Suite struct PublishedAESGCMTests {
    typealias Vector = (
        section: String, key: String, iv: String, plaintext: String, aad: String, ciphertext: String, tag: String
    )
    static let vectors: [Vector] = [
        ("PTlen 0, AADlen 0", "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
            "516c33929df5a3284ff463d7", "", "", "", "bdc1ac884d332457a1d2664f168c76f0"),
        ("PTlen 0, AADlen 160", "886cff5f3e6b8d0e1ad0a38fcdb26de97e8acbe79f6bed66959a598fa5047d65",
            "3a8efa1cd74bbab5448f9945", "", "519fee519d25c7a304d6c6aa1897ee1eb8c59655", "",
            "f6d47505ec96c98a42dc3ae719877b87"),
        ("PTlen 128, AADlen 0", "31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22",
            "0d18e06c7c725ac9e362e1ce", "2db5168e932556f8089a0622981d017d", "", "fa4362189661d163fcd6a56d8bf0405a",
            "d636ac1bbedd5cc3ee727dc2ab4a9489"),
        ("PTlen 128, AADlen 128", "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
            "ac93a1a6145299bde902f21a", "2d71bcfa914e4ac045b2aa60955fad24", "1e0889016f67601c8ebea4943bc23ad6",
            "8995ae2e6df3dbf96fac7b7137bae67f", "eca5aa77d51d4a0a14d9c51e1da474ab"),
    ]

    @Test(arguments: 0..<vectors.count)
    func nistGCMVector(index: Int) throws {
        let vector = Self.vectors[index]
        let key = SymmetricKey(data: hex(vector.key))
        let aad = [UInt8](hex(vector.aad))
        let sealed = try AESCipher.sealGCM(hex(vector.plaintext), key: key, nonce: hex(vector.iv), associatedData: aad)
        #expect(hexString(sealed) == vector.ciphertext + vector.tag, "\(vector.section)")
        let opened = try AESCipher.openGCM(
            hex(vector.ciphertext + vector.tag), key: key, nonce: hex(vector.iv), associatedData: aad)
        #expect(opened == hex(vector.plaintext), "\(vector.section)")
    }
}

/// X-Wing key generation through ``PQCKeys``: the draft's 32-byte seed is wrapped the way a registration
/// wraps it, unwrapped by ``PQCKeys/unwrap(_:username:password:hasher:)``, and the resulting public key must
/// be the draft's. Encapsulation and decapsulation (the draft's eseed, ct and ss) cannot be checked through
/// our code: ``PQCCipher`` only exposes HPKE with a random ephemeral and our own info and associated data.
///
/// draft-connolly-cfrg-xwing-kem-10 (2 March 2026), appendix C "Test vectors": `seed` and `pk` of its three
/// vectors. https://www.ietf.org/archive/id/draft-connolly-cfrg-xwing-kem-10.html (the repository copy:
/// github.com/dconnolly/draft-connolly-cfrg-xwing-kem, draft-connolly-cfrg-xwing-kem-10/*.txt). Older
/// revisions' vectors (before the seed was expanded with SHAKE256 to 96*8 bits) give other public keys.
@Suite struct PublishedXWingTests {
    static let vectors: [(seed: String, publicKey: String)] = [
        ("7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
            """
            e2236b35a8c24b39b10aa1323a96a919a2ced88400633a7b07131713fc14b2b5b19cfc3da5fa1a92c49f25513e0fd30d
            6b1611c9ab9635d7086727a4b7d21d34244e66969cf15b3b2a785329f61b096b277ea037383479a6b556de7231fe4b7f
            a9c9ac24c0699a0018a5253401bacfa905ca816573e56a2d2e067e9b7287533ba13a937dedb31fa44baced4076992361
            0034ae31e619a170245199b3c5c39864859fe1b4c9717a07c30495bdfb98a0a002ccf56c1286cef5041dede3c44cf16b
            f562c7448518026b3d8b9940680abd38a1575fd27b58da063bfac32c39c30869374c05c1aeb1898b6b303cc68be45534
            6ee0af699636224a148ca2aea10463111c709f69b69c70ce8538746698c4c60a9aef0030c7924ceec42a5d36816f545e
            ae13293460b3acb37ea0e13d70e4aa78686da398a8397c08eaf96882113fe4f7bad4da40b0501e1c753efe73053c8701
            4e8661c33099afe8bede414a5b1aa27d8392b3e131e9a70c1055878240cad0f40d5fe3cdf85236ead97e2a97448363b2
            808caafd516cd25052c5c362543c2517e4acd0e60ec07163009b6425fc32277acee71c24bab53ed9f29e74c66a0a3564
            955998d76b96a9a8b50d1635a4d7a67eb42df5644d330457293a8042f53cc7a69288f17ed55827e82b28e82665a86a14
            fbd96645eca8172c044f83bc0d8c0b4c8626985631ca87af829068f1358963cb333664ca482763ba3b3bb208577f9ba6
            ac62c25f76592743b64be519317714cb4102cb7b2f9a25b2b4f0615de31decd9ca55026d6da0b65111b16fe52feed8a4
            87e144462a6dba93728f500b6ffc49e515569ef25fed17aff520507368253525860f58be3be61c964604a6ac814e6935
            596402a520a4670b3d284318866593d15a4bb01c35e3e587ee0c67d2880d6f2407fb7a70712b838deb96c5d7bf2b44bc
            f6038ccbe33fbcf51a54a584fe90083c91c7a6d43d4fb15f48c60c2fd66e0a8aad4ad64e5c42bb8877c0ebec2b5e387c
            8a988fdc23beb9e16c8757781e0a1499c61e138c21f216c29d076979871caa6942bafc090544bee99b54b16cb9a9a364
            d6246d9f42cce53c66b59c45c8f9ae9299a75d15180c3c952151a91b7a10772429dc4cbae6fcc622fa8018c63439f890
            630b9928db6bb7f9438ae4065ed34d73d486f3f52f90f0807dc88dfdd8c728e954f1ac35c06c000ce41a0582580e3bb5
            7b672972890ac5e7988e7850657116f1b57d0809aaedec0bede1ae148148311c6f7e317346e5189fb8cd635b986f8c0b
            dd27641c584b778b3a911a80be1c9692ab8e1bbb12839573cce19df183b45835bbb55052f9fc66a1678ef2a36dea7841
            1e6c8d60501b4e60592d13698a943b509185db912e2ea10be06171236b327c71716094c964a68b03377f513a05bcd99c
            1f346583bb052977a10a12adfc758034e5617da4c1276585e5774e1f3b9978b09d0e9c44d3bc86151c43aad185712717
            340223ac381d21150a04294e97bb13bbda21b5a182b6da969e19a7fd072737fa8e880a53c2428e3d049b7d2197405296
            ddb361912a7bcf4827ced611d0c7a7da104dde4322095339f64a61d5bb108ff0bf4d780cae509fb22c256914193ff734
            9042581237d522828824ee3bdfd07fb03f1f942d2ea179fe722f06cc03de5b69859edb06eff389b27dce598445702162
            23593d4ba32d9abac8cd049040ef6534
            """),
        ("badfd6dfaac359a5efbb7bcc4b59d538df9a04302e10c8bc1cbf1a0b3a5120ea",
            """
            0333285fa253661508c9fb444852caa4061636cb060e69943b431400134ae1fbc02287247cb38068bbb89e6714af10a3
            fcda6613acc4b5e4b0d6eb960c302a0253b1f507b596f0884d351da89b01c35543214c8e542390b2bc497967961ef102
            86879c34316e6483b644fc27e8019d73024ba1d1cc83650bb068a5431b33d1221b3d122dc1239010a55cb13782140893
            f30aca7c09380255a0c621602ffbb6a9db064c1406d12723ab3bbe2950a21fe521b160b30b16724cc359754b4c883426
            51333ea9412d5137791cf75558ebc5c54c520dd6c622a059f6b332ccebb9f24103e59a297cd69e4a48a3bfe53a595855
            9e840db5c023f66c10ce23081c2c8261d744799ba078285cfa71ac51f44708d0a6212c3993340724b3ac38f63e82a889
            a4fc581f6b8353cc6233ac8f5394b6cca292f892360570a3031c90c4da3f02a895677390e60c24684a405f69ccf1a7b9
            5312a47c844a4f9c2c4a37696dc10072a87bf41a2717d45b2a99ce09a4898d5a3f6b67085f9a626646bcf369982d4839
            72b9cd7d244c4f49970f766a22507925eca7df99a491d80c27723e84c7b49b633a46b46785a16a41e02c538251622117
            364615d9c2cdaa1687a860c18bfc9ce8690efb2a524cb97cdfd1a4ea661fa7d08817998af838679b07c9db8455e2167a
            67c14d6a347522e89e8971270bec858364b1c1023b82c483cf8a8b76f040fe41c24dec2d49f6376170660605b8038339
            1c4abad1136d874a77ef73b440758b6e7059add20873192e6e372e069c22c5425188e5c240cb3a6e29197ad17e87ec41
            a813af68531f262a6db25bbdb8a15d2ed9c9f35b9f2063890bd26ef09426f225aa1e6008d31600a29bcdf3b10d0bc727
            88d35e25f4976b3ca6ac7cbf0b442ae399b225d9714d0638a864bda7018d3b7c793bd2ace6ac68f4284d10977cc029cf
            203c5698f15a06b162d6c8b4fd40c6af40824f9c6101bb94e9327869ab7efd835dfc805367160d6c8571e3643ac70cba
            d5b96a1ad99352793f5af71705f95126cb4787392e94d808491a2245064ba5a7a30c066301392a6c315336e10dbc9c21
            77c7af382765b6c88eeab51588d01d6a95747f3652dc5b5c401a23863c7a0343737c737c99287a40a90896d4594730b5
            52b910d23244684206f0eb842fb9aa316ab182282a75fb72b6806cea4774b822169c386a58773c3edc8229d85905abb8
            7ac228f0f7a2ce9a497bb5325e17a6a82777a997c036c3b862d29c14682ad325a9600872f3913029a1588648ba590a71
            57809ff740b5138380015c40e9fb90f0311107946f28e5962e21666ad65092a3a60480cd16e61ff7fb5b44b70cf12201
            878428ef8067fceb1e1dcb49d66c773d312c7e53238cb620e126187009472d41036b702032411dc96cb750631df9d994
            52e495deb4300df660c8d35f32b424e98c7ed14b12d8ab11a289ac63c50a24d52925950e49ba6bf4c2c38953c92d60b6
            cd034e575c711ac41bfa66951f62b9392828d7b45aed377ac69c35f1c6b80f388f34e0bb9ce8167eb2bc630382825c39
            6a407e905108081b444ac8a07c2507376a750d18248ee0a81c4318d9a38fc44c3b41e8681f87c34138442659512c4127
            6e1cc8fc4eb66e12727bcb5a9e0e405cdea21538d6ea885ab169050e6b91e1b69f7ed34bcbb48fd4c562a576549f85b5
            28c953926d96ea8a160b8843f1c89c62
            """),
        ("ef58538b8d23f87732ea63b02b4fa0f4873360e2841928cd60dd4cee8cc0d4c9",
            """
            36244278824f77c621c660892c1c3886a9560caa52a97c461fd3958a598e749bbc8c7798ac8870bac7318ac2b863000c
            a3b0bdcbbc1ccfcb1a30875df9a76976763247083e646ccb2499a4e4f0c9f4125378ba3da1999538b86f99f2328332c1
            77d1192b849413e65510128973f679d23253850bb6c347ba7ca81b5e6ac4c574565c731740b3cd8c9756caac39fba7ac
            422acc60c6c1a645b94e3b6d21485ebad9c4fe5bb4ea0853670c5246652bff65ce8381cb473c40c1a0cd06b54dcec118
            72b351397c0eaf995bebdb6573000cbe2496600ba76c8cb023ec260f0571e3ec12a9c82d9db3c57b3a99e8701f78db4f
            abc1cc58b1bae02745073a81fc8045439ba3b885581a283a1ba64e103610aabb4ddfe9959e7241011b2638b56ba6a982
            ef610c514a57212555db9a98fb6bcf0e91660ec15dfa66a67408596e9ccb97489a09a073ffd1a0a7ebbe71aa5ff793cb
            91964160703b4b6c9c5390842c2c905d4a9f88111fed57874ba9b03cf611e70486edf539767c7485189d5f1b08e32a27
            4dc24a39c918fd2a4dfa946a8c897486f2c974031b2804aabc81749db430b85311372a3b8478868200b40e043f7bf4a1
            c3a08b0771b431e342ee277410bca034a0c77086c8f702b3aed2b4108bbd3af471633373a1ac74b128b148d1b9412aa6
            6948cac6dc6614681fda02ca86675d2a756003c49c50f06e13c63ce4bc9f321c860b202ee931834930011f485c9af86b
            9f642f0c353ad305c66996b9a136b753973929495f0d8048db75529edcb4935904797ac66605490f66329c3bb36b8573
            a3e00f817b3082162ff106674d11b261baae0506cde7e69fdce93c6c7b59b9d4c759758acf287c2e4c4bfab5170a9236
            daf21bdb6005e92464ee8863f845cf37978ef19969264a516fe992c93b5f7ae7cb6718ac69257d630379e4aac6029cb9
            06f98d91c92d118c36a6d16115d4c8f16066078badd161a65ba51e0252bc358c67cd2c4beab2537e42956e08a39cfccf
            0cd875b5499ee952c83a162c68084f6d35cf92f71ec66baec74ab87e2243160b64df54afb5a07f78ec0f5c5759e5a432
            2bca2643425748a1a97c62108510c44fd9089c5a7c14e57b1b77532800013027cff91922d7c935b4202bb507aa47598a
            6a5a030117210d4c49c174700550ad6f82ad40e965598b86bc575448eb19d70380d465c1f870824c026d74a2522a799b
            7b122d06c83aa64c0974635897261433914fdfb14106c230425a83dc8467ad8234f086c72a47418be9cfb582b1dcfa3d
            9aa45299b79fff265356d8286a1ca2f3c2184b2a70d15289e5b202d03b64c735a867b1154c55533ff61d6c2962770118
            48143bc85a4b823040ae025a29293ab77747d85310078682e0ba0ac236548d905a79494324574d417c7a3457bd5fb525
            3c4876679034ae844d0d05010fec722db5621e3a67a2d58e2ff33b432269169b51f9dcc095b8406dc1864cf0aeb6a213
            2661a38d641877594b3c51892b9364d25c63d637140a2018d10931b0daa5a2f2a405017688c991e586b522f94b1132bc
            7e87a63246475816c8be9c62b731691ab912eb656ce2619225663364701a014b7d0337212caa2ecc731f34438289e0ca
            4590a276802d980056b5d0d316cae2ecfea6d86696a9f161aa90ad47eaad8cadd31ae3cbc1c013747dfee80fb35b5299
            f555dcc2b787ea4f6f16ffdf66952461
            """),
    ]

    @Test(arguments: 0..<vectors.count)
    func draftKeyGenerationVector(index: Int) throws {
        let vector = Self.vectors[index]
        let key = try Self.unwrappedKey(seed: vector.seed)
        #expect(hexString(key.publicKey.rawRepresentation) == hexString(hex(vector.publicKey)))
    }

    /// The key a user gets from `seed`: wrapped under a password as registration does, then unwrapped.
    static func unwrappedKey(seed: String) throws -> PQCPrivateKey {
        let wrapped = try cheapHasher.wrap(
            SecretBytes(copying: hex(seed)), password: "pw", username: "bob", context: PQCKeys.context(username: "bob"))
        return try PQCKeys.unwrap(wrapped, username: "bob", password: "pw", hasher: cheapHasher)
    }
}

/// ML-DSA-65 key generation through ``BrokerSigningKey/load(at:)``: the ACVP seed is written as the
/// broker's seed file; the key it loads must have the ACVP public key, and its
/// ``BrokerSigningKey/publicKeyID`` (SHA-256 of the key) the published digest.
///
/// NIST ACVP, ML-DSA keyGen (FIPS 204), ML-DSA-65 AFT tcId 26, seed 70CEFB9A…. The ACVP-Server revisions
/// that could be read (github.com/usnistgov/ACVP-Server, gen-val/json-files/ML-DSA-keyGen-FIPS204) are other
/// regenerations with other seeds, so `pk` is as transcribed from that vector in bc-java's
/// DilithiumTest.testDilithium (github.com/bcgit/bc-java) and swift-crypto's MLDSA65_KeyGen_KAT.json; its
/// SHA-256 646b26b8… is the digest independent implementations cite for "NIST ACVP ML-DSA-65 keyGen tcId 26".
@Suite struct PublishedMLDSA65Tests {
    static let seed = "70CEFB9AED5B68E018B079DA8284B9D5CAD5499ED9C265FF73588005D85C225C"
    static let publicKey = """
        d2fd03f3a1b7f635af9f34d580a98f524c735bd5ba2355dc6e035bd21765580cbb111923f194a7cc8a7bb2ebc5c0e71a
        a637cc800e6103b850a539b2a39e1b6d713e5db8314c9ae1f8bf8a38f06afb9d73b161b0ffe3a4891706ae26d54ffb49
        6df8dc0f1983509500c9abbd28e59b3fcdabbdadabd45ec31499378bde849e7c1f19b7044d67e05106d7136d95380d56
        05d4465d877557065df0a75d3c28542f40feed42ec7e280637b083d988bca5f6394e02396c4676184fb63318dafaf5bb
        dde00e308fe84019c2340a3f3e1c0865624970711283356ae14bd6b94d1c9ae188de1a8a2ca824a8eae2fe6afb38d83a
        2d99996ab21fe3e84c0be6b6da08879b677374fa7c691b13d40fa9d4cc26b2288d5a8c9a43724381004d61b0d57ff400
        314c8e30ee796af10f7ee21bf13d08180465abc72eddb080c6a07184e3eedc47c19aa7f09d1f3309e183a2bd9b0573dd
        e474a81ba4f78d0c523d0c04f90060fd571a35c037e079c5e210d7390df568f2e2f03ce44420c82f3fe69eb9b48ee909
        62d6b0f24440648f71edb241ee6566fc1a64cabf66be6fecbcb1387c82a7bc202d9e367998e2a291af0cd1570677fe8d
        63a3285a2ea6eb29af9dc1aec1c36c4706b12baa20839692f286a6e0321468f7479345c4d52fbdb2f06725b554b89e24
        92612681acebc6c7bada9225818dbc35d64c22c48bff80a730d0716dfac99dfd5b8992611d0c93ee90bdb260022afe25
        d913e06effb59cb1f8a60cbfa5ab2f459a16f467e989525e0a37ebe56e833fde55db9d1530adcf45846df281e47caa1e
        0a27efde2107d354cea0f6a454692f04cd838ebdd46e191e5d9c11839a2c3f488a4fc7cd265a7b5d32b08cbdbfab9d2c
        cd76222c8ee37ddcbd2aa063ed861473a6454caea377850b1a2b9ddbbcb374fab5b12f351c8e5888872e5cd1f60a4fae
        1ff837d192c22beb41ee6fa392fcdf4550ff46b5ce906d017ef3077df132300d8bbfa9bb03c75e79e2f04c284ad06a44
        399649c3e2a2a8d1efe9b7a4e0c271047ab75908bff7df9e30eca547745bae23a86ff9a8b58c2538b88b866401076902
        dc5f0bd761687b49eafe36d350cbedfdd36c121cf23786bfcf7e47076496eab6bbda774049c2ebabe2de99c4c24f2db7
        3684015b373977496760cf9ac23d8b623133db2de10d73fa6ad1c6dac8434f28c6e251ce7293cff3f3b61efcb5a43512
        3670f29846a13df3ee712604461f1bab8f4ebc836de058978ae734396a98081b35cc98188a86949c99270d4709854c5b
        35b17f48a373134c814cc8a0f3e2fa807f2a918530907864778282d75e03a41b2504eed816a417a3ac6ba16080c39b73
        10192002a728f7f20395009a9e16767ce1971f5de7d229a50613369e4382045a8e81901f4dba8102f3d413fe35b326a8
        74f233b719a7137600d35d33aeb6b7259624083aa968730c8f78292ad28f14eeabe660835984fe69ef23dec8c327c0eb
        0b882d587e1ec433da85c9fd1e0a34994dea240c854452d18c30f496e49ec904b602e0f5062edcda03280a53b4313574
        cc2c0d5471bc9613bdfd6641f5bd127bab5b5eb3d499a33114048220e819f8ee12ca922c8f17d9c9f51ad5bd6883b10e
        6aa2483ba49dc547da7686151344f4e9099b38e430b5226b059832cf03db48fb02dba4e61593dc4576360491890e53ec
        0e6ac73cf32b25d823b38456e286505a541e5aeee96b1914f5f76687ce2b0160227abed77993594bcd831366206d7571
        4082f1c46f1f4439ac81a57af31c81c555307a070ffa94e0479b784bbd88a60cd4c7cfd94e6afe02f6b21f72af0dcd66
        09d40c965c14e5f2389183e53de930f7de1d44215cf49144844e8b87f78a7f132aefe22be80b4e3a05ee3a68ccf609ef
        44047402e4493046e6f9c767ff8a75e28b3ce077fde7e7eed313b5bf7e460127ca8182e9bc794c0dfa730fb920080575
        a751b5caec85a109b4422ba266743f0d032bda8f1ca6248cdb917530df1302a5f8c18dc642d52478c98c12a3f16ef2b6
        2b4f59ea1bb58de7b65b3c7153ce6da5e4950746f80e087a0e3586d097791bf36def865d68591d39d0903773eea96214
        7f34704138b54df7924cdd8c333db5e1a409ccb2b34e2c3c8c7fdd3fd8d012cbf382aaa85e83a12f235a2d147d035b7b
        28b34b6f57949f322482a7d4d3b15045c420d5addc7f0e69b4dc1cba58b01d872480b06a260d827d891b13c4c5ca50c7
        48de3c771be61e9aa170165cb01f4bf5da27a7791d3ad3f6267b4cb4e61b28fa1708418d932dfc4161880c5d3b17a966
        3a9061fa8f1804315850fe4e7306c882b38227e867f80872cdc1944d472615ea4900ef7d270b881d4130f56c5cc980d9
        2a47ada6657eb6f37a385d2d8cc993e1442eb05281853636991e34aadc68954d04e7adef76bf880f059b0cbb55d915a4
        b123e2f1339a073cbfbc409beff6400ae096d5ae18ec42cffad5b4980fa35bf03413adb5d7e6876ac355d1c9ed70ca2b
        973954d12b3cdd76ac6835db96003ed8c4e288b71fd77dbaa7635720e12ae0a317de808c664e317f55275791f3245ca4
        fe5d4d41077fc150a6e403d5a208e46eadbe8f2cfb8af472f4a0ceac015219478e6b86c958cf86525b7485c1734c7ef0
        0e90683fff5dbd0a7d413a855021026a1b32013a4616cbcd3700acbc705be3efba625c69a025267bce9d135e3f5b5cc8
        c43956407e84b6663103e29c242035551ae797f56c6374be0c798c0cf398f1ed
        """
    /// SHA-256 of the public key, as the same vector is cited elsewhere.
    static let publicKeySHA256 = "646b26b8d09dbc9e865b6a006c693a3127b065e62fab5fbe8b159c416462feb6"

    @Test func acvpKeyGenerationVector() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("signing.key")
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: hex(Self.seed), attributes: [.posixPermissions: 0o600]))
        let key = try #require(try BrokerSigningKey.load(at: path))
        #expect(key.publicKey.count == 1_952)
        #expect(hexString(key.publicKey) == hexString(hex(Self.publicKey)))
        #expect(hexString(key.publicKeyID) == Self.publicKeySHA256)
    }
}

/// SHA-256 through ``HashChain/next(previous:position:record:)``, which hashes previous || be64(position) ||
/// record: a published message of at least 40 bytes is split into those three parts. "abc" (FIPS 180-4's
/// one-block example) is 3 bytes and cannot be expressed this way, nor through any other SHA-256 use of ours
/// (session ids hash exactly 32 bytes), so it is not checked.
///
/// NIST, "Examples with Intermediate Values", SHA-256 two-block message (FIPS 180-4):
/// https://csrc.nist.gov/CSRC/media/Projects/Cryptographic-Standards-and-Guidelines/documents/examples/SHA256.pdf
/// and one million "a", FIPS 180-2 appendix B.3 (also RFC 6234 section 8.5, TEST3).
@Suite struct PublishedSHA256Tests {
    /// The message as the chain sees it: the first 32 bytes as the previous hash, the next 8 as the position.
    static func chainHash(_ message: Data) -> Data {
        let bytes = [UInt8](message)
        let position = bytes[32..<40].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return HashChain.next(previous: Data(bytes[0..<32]), position: position, record: Data(bytes[40...]))
    }

    @Test func twoBlockMessage() {
        let message = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(message.count == 56)
        let expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        #expect(hexString(Self.chainHash(message)) == expected)
    }

    @Test func oneMillionA() {
        let message = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hexString(Self.chainHash(message)) == expected)
    }
}
