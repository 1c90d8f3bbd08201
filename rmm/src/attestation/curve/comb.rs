//! [`super::COMB`] as canonical integers: per table, per entry, x then y, each six 64-bit limbs,
//! least significant first (entry 0 of each table is a placeholder, G). Constant evaluation of
//! the comb from G (384 doublings, 128 additions, an inversion) took about 13 seconds of every
//! build of this crate; these are its result, printed by the ignored test `print_comb_limbs`
//! (`cargo test -p rmm --lib print_comb_limbs -- --ignored --nocapture`), and the test
//! `the_comb_tables_hold_their_sums` checks them against the p384 crate's multiples of G.

/// See the module (one entry a line pair, left as printed).
#[rustfmt::skip]
pub(super) const COMB_LIMBS: [[[[u64; 6]; 2]; 16]; 4] = [
    [
        [
            [0x3a545e3872760ab7, 0x5502f25dbf55296c, 0x59f741e082542a38, 0x6e1d3b628ba79b98, 0x8eb1c71ef320ad74, 0xaa87ca22be8b0537],
            [0x7a431d7c90ea0e5f, 0x0a60b1ce1d7e819d, 0xe9da3113b5f0b8c0, 0xf8f41dbd289a147c, 0x5d9e98bf9292dc29, 0x3617de4a96262c6f],
        ],
        [
            [0x3a545e3872760ab7, 0x5502f25dbf55296c, 0x59f741e082542a38, 0x6e1d3b628ba79b98, 0x8eb1c71ef320ad74, 0xaa87ca22be8b0537],
            [0x7a431d7c90ea0e5f, 0x0a60b1ce1d7e819d, 0xe9da3113b5f0b8c0, 0xf8f41dbd289a147c, 0x5d9e98bf9292dc29, 0x3617de4a96262c6f],
        ],
        [
            [0x39c1b328d8ee21c9, 0x2c3e0c91558717db, 0x4b58808b3f8686a9, 0x4360390918141b1a, 0xd6e98b0d37ca7abc, 0xf532389a060cbd1b],
            [0x7a7e183923d86ecd, 0x31ea31b1085a4e9a, 0xbc40ce5abe643603, 0xbd22cfb2a2124163, 0x6f04caa2de3a82ba, 0xb9d2852cc3b38e69],
        ],
        [
            [0x264e5246eb09a0e5, 0xf8f4be1132cdf03c, 0xda9d54835faefa4f, 0xbbbc4fd017a31b22, 0xc3decd0c86f06145, 0x528ef1670a5f2cab],
            [0x8a1e9858c14f0dd6, 0x550538a809cb7524, 0xbd60cab4c87fed22, 0xf8b76fdd631d058d, 0x5803eaa11a1dcf14, 0x7b9b1fbe7bccf56c],
        ],
        [
            [0xa628b09aaa03bd53, 0xba065458a4f52d78, 0xdb2987894d10ddea, 0xb42a31af8a3e297d, 0x40f7f9e706421279, 0xc19e0b4c800119c4],
            [0x822d0fc5e6c88c41, 0xaf68aa6de639d858, 0xc1c7cad135f6ebf2, 0x577a30eae3567af9, 0xe5a0191d1f5b77f6, 0x16f3fdbf0356b301],
        ],
        [
            [0x30991560aa133909, 0x9097dbb1c6cb0017, 0xd37de424b860fae6, 0x9bb183b270b375dd, 0x567a6233cd6ce3a3, 0xaab8bb9f0fdc3088],
            [0x16c5b981600ad5a6, 0xebdf73f2d62faa44, 0x6d955bb3c9747bf3, 0xf6005fc815eb04ac, 0xf0af01d1282050b5, 0x48942f81314f6d28],
        ],
        [
            [0x202211217716605e, 0x2347d2c89ef281c8, 0x54ba4599567d6342, 0xce0fba3077c0f03f, 0x7022f802cb367444, 0x7334a936a9a6a052],
            [0xb5461f68d658a01a, 0x0a64d519c2bd0efa, 0x9e2eee8f697a9280, 0x8e5d9b897d0e017a, 0x1f7c5c367cbd4ccd, 0x7ffceff7f632c926],
        ],
        [
            [0x300ae2e60e758344, 0x451c707a371a2ca5, 0x25651d105052dd32, 0xbf88de7f4862b954, 0xfafce26e0381ef13, 0xdc916c17960e090e],
            [0xed17cc44026b0889, 0x95c01ff19b42441b, 0x40896478cc160697, 0x52d154b80ba04a35, 0xb3d92ea4701c2952, 0x266e8a40d69eca0a],
        ],
        [
            [0xe4bfc2c04905ca71, 0xf33a450ad156f761, 0x3d8b29dbd08848c2, 0x097da395a2309686, 0x211905035f4972d7, 0xb2d1055817cbaa12],
            [0xddcebb55753ee324, 0xe87ab07c6924666f, 0x9b475d744ecf1a68, 0xf82be8f52e6236c0, 0x237c0dba3cfd056b, 0x354cd872c3c6cbd2],
        ],
        [
            [0x8d104d24708d4cee, 0x197d6958819cf043, 0x47fc87faf0712210, 0x103df7855c201558, 0x30b0a9e8611ef638, 0x00b19ac8fdfebfec],
            [0xd40e8d6fd201e03e, 0xbb7c969c2228ff5f, 0x68810282636164c5, 0xcdbb3cd2e754220d, 0x1418fe25e9f6edc4, 0xa72f91059ee36031],
        ],
        [
            [0x64d2c273b769737a, 0x2cc0245197d53ffd, 0xc3b6ac4be86c46bd, 0x17e9411f685e926d, 0x136df36b75203a36, 0x3f9561e08bf0b27e],
            [0xdd6ff8d527e990a7, 0xc34be586f9867a60, 0xea0887478554e014, 0xcfced6646f52e4cb, 0x4b1a5a20412ab641, 0x0b06f00639629587],
        ],
        [
            [0x044c0dd285651f82, 0x325c51e7785d3ef7, 0xb83a186188e95532, 0x539f94ad522c2931, 0x15274e5b8980f137, 0x9fd7b010df0f66d7],
            [0xe4a7b94a4064e4c0, 0xd44eba4525d7d211, 0x0a806b54be8a04e3, 0x929226bd149033de, 0x795f6fa3c9739246, 0x321aa9a3b9260225],
        ],
        [
            [0x49bcc2f58b707b8e, 0x2901b5191d928983, 0x2e4c29567d49c780, 0xebd1cff84c6a9964, 0x2caebbd316ee3e13, 0x36a543eea87a68f7],
            [0x75b41c29b569946d, 0x1510e7d43ef2267e, 0x91235072d4b3394d, 0x58eaff048fbd85d1, 0xd349ab0378a67847, 0xf277bacda50ee41c],
        ],
        [
            [0x10b056585f863bbd, 0xe92cdc5ab483283d, 0xebb31209dc7c421d, 0x3afcbd796d01a5a8, 0xe2b067caa08b6a51, 0x026e0dc2e8cb7aeb],
            [0xd8c3502902dde18a, 0x64c15facd8c6cf36, 0x17ea270110781e45, 0xd68d1ffc1f3443d8, 0x4be256378c7461a5, 0xae8866bad8ef24e1],
        ],
        [
            [0xac3a78d0d265a91c, 0x1a29f8ef6c8f83d3, 0xef98fdde8fd8d817, 0xdf459ea1c42bf748, 0x14dafc3981a73dc7, 0xb03dfa54c52afa2d],
            [0xcc406f6e6c0d2ce7, 0xcd120b2b41fd72ca, 0xef5d900678f602dd, 0xf5f8a2d18accf229, 0xaafd1fcfce6d908a, 0x2ce2885a0e6d85f2],
        ],
        [
            [0x89109a0ec62666de, 0xc8c12e757ffcd01e, 0xa8206169c48b5ab0, 0x4bc2fdcff983ac6c, 0x59cfca7155977d23, 0x1264cb335766c96a],
            [0x6b6913812e014b4b, 0x31d28707e4483ec5, 0xcbf7190cffb19758, 0xb66717a065a5f248, 0xd94ad8fac53b4f69, 0x119ebeeea1a1a376],
        ],
    ],
    [
        [
            [0x3a545e3872760ab7, 0x5502f25dbf55296c, 0x59f741e082542a38, 0x6e1d3b628ba79b98, 0x8eb1c71ef320ad74, 0xaa87ca22be8b0537],
            [0x7a431d7c90ea0e5f, 0x0a60b1ce1d7e819d, 0xe9da3113b5f0b8c0, 0xf8f41dbd289a147c, 0x5d9e98bf9292dc29, 0x3617de4a96262c6f],
        ],
        [
            [0x25043ffbbb5ef8a6, 0xe2193c62ccd47590, 0xc96307a560f5afd2, 0x36a26654f776ee76, 0xaaaa4f9faa19b096, 0x3e9c2dd27f00128d],
            [0xb9b681bea912e417, 0x2df33bfa205d7508, 0x685d8cc3aba26b12, 0xbc00520987023f04, 0xad380091b02de357, 0x8e3337f55d674f6b],
        ],
        [
            [0xa4f057aeeb02d061, 0x05b67f0b2f3bc02e, 0x56aead32f86e089a, 0x36ee2eea3031e720, 0x5b51b855b1b8e237, 0x873893319b8bb539],
            [0x5841ee49205e62e9, 0x96ed905ac40ea262, 0x2c97dab6506a5c36, 0x0f317f1ba4aef7d8, 0xaec182bc952c8acc, 0x509e270d600a1b20],
        ],
        [
            [0x4e35f2d615a8fd28, 0xf60ba5511d83f1a6, 0x5c5baed0744339c5, 0x5b3df56cff8c4ced, 0x6e20110cdf6d59b9, 0xcdb6e78459aed2fa],
            [0xbff2d924742a15f4, 0x55e0257608726d45, 0x46eb91771285aeae, 0xfd04559e6b0b3534, 0xc47eba7812ea9b73, 0xea6986ae61f5ee7f],
        ],
        [
            [0x0139babfea22e778, 0xec6284acdf3cf2e1, 0x802e7ed804c9e381, 0xefb3591a9e1e75ca, 0xd2f9c128cd470675, 0xf59328c85bc0b5b5],
            [0x70d17b7a18aac609, 0xe4c16b59050839cf, 0xd51d3e0c7438e95e, 0x682cd98a8dcdf8e3, 0xca1499c82592ab4e, 0x850a3c8a825613aa],
        ],
        [
            [0x777fab83837baa0e, 0x85f73f439b71ae1d, 0x234bf461bad6e719, 0x959b8d104cea8b57, 0xaf919ff43729d905, 0x7b30bf5f503fefd1],
            [0x24e0d48199f37bcb, 0x2d7e58309cb177bf, 0x2d1187b536fa39ba, 0xe1efb1a96687046b, 0x776008360478fddc, 0x58a05dce5ca065e5],
        ],
        [
            [0x8f20c6567be3dad0, 0x99d94540d21a6e66, 0xb9fc59473f18f83e, 0xc6320d14c57afb55, 0x26ddbd136cb8c286, 0xa72c79cae13fa1f8],
            [0xa5dd7b455f9fba19, 0xe09123a64467b8b7, 0x8d7a253ea7490509, 0x2d6805c85001543f, 0xd757ee4fb15f6bfb, 0x352a96a40d0f6691],
        ],
        [
            [0x0136f92b911af837, 0x6b8bc478110b9f95, 0x9f04cc16fb51ef1e, 0xb5b221b8113cd295, 0xf1806955ccdd98fa, 0x9ae9e851bdf04bbf],
            [0xef9a9403032dac29, 0x35dfb740d53fc4aa, 0x9e1cc032ea4ad776, 0x2567113d20824d72, 0x8337b5202d2f6c26, 0x412ac05708546984],
        ],
        [
            [0x09da59b0d9a0d716, 0xe90f22663ba58128, 0xe867df85f30671a0, 0x4bf10cfbaba22d8c, 0x017faf5418406ee8, 0x4cbf6414b97c0053],
            [0x516090d9b0228bd2, 0x2599843f80745095, 0x2fe0520728a501be, 0xbffe106afea4fa16, 0xf83a3767e03baebb, 0x71b00e3d8ec66837],
        ],
        [
            [0xdeb028ec9d72438d, 0x28964449be8c08c8, 0xa0c7fde8509dc0ff, 0xf1e36cad9e8570e5, 0x6622706e8454595e, 0xd28981da4f47d3e0],
            [0x380d3f94b2d0ec2a, 0xc8ab226111f2a3ac, 0x40f033188243d84c, 0xbb0412cb1143dcb3, 0x9f2769308fb10715, 0x51a2ca7cb9325cda],
        ],
        [
            [0xf6ea9b8956d86038, 0x47810c1ac67982b4, 0xfa6af143ed797db8, 0x32c7c26785653779, 0x37da44194cb58910, 0x33d3be0e3ba87426],
            [0x8775c34668603c49, 0xc76ca2754f880fca, 0xa3280c72ffa76579, 0xe4f6c97d3ac45fa6, 0xc45e0bb0135c678c, 0x98e8f1b7e760d25d],
        ],
        [
            [0x3af6493e69ffb874, 0xdb14f46bbb298557, 0x8b1031ccbd09a513, 0x382aeca349190e13, 0xa6143b681e8e842f, 0x7cf1d6bdf681394f],
            [0xf81c8f4b8e898943, 0x3a9e08c9e988c21e, 0xb7ec0f3685d51daa, 0x2f8654f82a09eb90, 0x8540bafdfadd0cf8, 0x4f3edc0c07bf875a],
        ],
        [
            [0x208aa44b3d72b7de, 0xa57622150016e893, 0x4f93243c5391dcb6, 0xb04296d4ba5f2def, 0x4788fd57a83c9f86, 0x9874d9aa666521d2],
            [0x2c97ddbeb822643d, 0xddc1a0cffa761925, 0x8cc5b8595e518032, 0x5bedfd3318e15e0e, 0x711d7b818021625a, 0x9250e33bd28ef48d],
        ],
        [
            [0x8adcb7395a785c13, 0x0abc49c62491c3e9, 0xfe021a9665011fe0, 0x84357125d3ab7548, 0x1826898c3710bcf8, 0xcef4303c54236341],
            [0x714db5d16114a28f, 0x9288ed8cab977220, 0x3a12fc50d9f2eb5e, 0x7e4158fd26b8d242, 0xe15d1d38dff4d2bb, 0x2174a900bd472b14],
        ],
        [
            [0xabfe3c585c20c05f, 0x59508d8b949efdf0, 0x9949847a8ca5fcf8, 0xf3128696a2e890c3, 0x7ebd4b45926e1ef8, 0x85e47f789b0f34eb],
            [0x5e982862a7629c07, 0xbe8c88b540797938, 0x96a64bfd4b042890, 0xa4f85b35019dc51d, 0x190bd9a35f0f3a3d, 0xbfbb657207747f71],
        ],
        [
            [0x99922b3e89dbe279, 0x2d9f11a5f4606580, 0xbb433725621ce428, 0x054b80a2a26b588b, 0x512151d90d7aa272, 0x019aa20ff6a9556a],
            [0x0e8f8f8f2bed9ea7, 0x2db8561d81d066a6, 0xccef2bbbeea09682, 0x172569e70b33a214, 0xb131a4d7a8bd5a0e, 0x85336931f6c6f288],
        ],
    ],
    [
        [
            [0x3a545e3872760ab7, 0x5502f25dbf55296c, 0x59f741e082542a38, 0x6e1d3b628ba79b98, 0x8eb1c71ef320ad74, 0xaa87ca22be8b0537],
            [0x7a431d7c90ea0e5f, 0x0a60b1ce1d7e819d, 0xe9da3113b5f0b8c0, 0xf8f41dbd289a147c, 0x5d9e98bf9292dc29, 0x3617de4a96262c6f],
        ],
        [
            [0x9112e340f47168ac, 0x3917d3a090080705, 0xb6971da1cc7fdedf, 0xcbd8aa258512e48a, 0x804100caa7f6297e, 0xf19c3f9b433eb6a3],
            [0x45e0b1762d8b523f, 0x1b7078cb39d2cf6c, 0xaf40b68bee4928be, 0x65d24d485a620149, 0x4a1e9b515d389045, 0xae61a171f610090c],
        ],
        [
            [0x6f5e0f5d2805e596, 0x89bba01d26281050, 0x712e1253ee0d124b, 0xd214b583badc49fb, 0x049f9294aaf0c000, 0x4e5a9dfe6ac2c3ef],
            [0x965622c691013e25, 0x4b8f321bced6e714, 0xb5a0603d0051e057, 0x81a2b6587a5e5a25, 0x7bdd7fa6306b5712, 0x526f1b07f6acf171],
        ],
        [
            [0x9bff5ece88f05154, 0xb008be4f62091c2c, 0xbc5cd1b4fc1b7102, 0x1eadfda0bf37e0c6, 0x1c4a42aae912eb0e, 0xaef19fb9e7884fcf],
            [0xb81276425b94e7af, 0xe591a2a398102462, 0xca4d2b5834e2fa7a, 0xfe84fc47e9413a45, 0x7814995822783cd6, 0x23d1ed959bb5532f],
        ],
        [
            [0xb3de52c7a213e83b, 0x464a92d055db2392, 0x0f54907fa76f70c9, 0xf03811a5455c1c82, 0xdbc082aba71bfebc, 0xc6b405288edffa7f],
            [0xc07bb07de3636016, 0x12b29e9a4c00333a, 0x888e190753eec121, 0x64acc0d1640707c9, 0xb78ca0ff03519fa1, 0x5c88fb72c6c4eafb],
        ],
        [
            [0x58bd2b8ef75508fc, 0xa91bf29262bfd0c5, 0x88d90e30142ab328, 0x729f12b6632c89cf, 0xc8927502212d6788, 0xe5003a3f29154dc6],
            [0x0c90953325010799, 0xe70c8d422bb5ff4b, 0x1c1a2a3576aa7b5f, 0x38569944a1c6f02e, 0xb580ce6abc0ab45f, 0x64aa8ae383c9d7ab],
        ],
        [
            [0x586f396e7c41cec4, 0x6273cf56bdb3029a, 0x3e31b2ffdc28f3ff, 0x2084e14dadcbfafc, 0xf39aa51ad40a9a63, 0xd1af43828307e1df],
            [0xf4285854d1474980, 0x6f9cb3be7bd30cbf, 0x69efed16bdb54eeb, 0xb6456f624202560e, 0x726ea875f8181994, 0xa922c45083587bc3],
        ],
        [
            [0x240829822360374b, 0x836895a7bae94084, 0x8631b51074a33f39, 0x8e09378b4266b4fd, 0xe75930f90fa51be5, 0xa06ea7d1fd035e12],
            [0x4f20ab1e5cb6a429, 0x630c4118cb96b0e9, 0xa862b08963edba69, 0xa7a42760b2dc37cb, 0x405292fe3877b186, 0xabc08adc6dd6c396],
        ],
        [
            [0x35b2e4383f385d2b, 0x6e668ac4932b516d, 0x8a1646fe51a3599f, 0xaee309abd12c0f3a, 0x0231423bc46da385, 0xf23c10b4637ee943],
            [0xc0bc215d22248e00, 0x9ed447e3d45f6553, 0xaf084771daad7d1d, 0xee94bf701f2d8179, 0x1e8c72ad267bb3fd, 0xc425de168de7ac78],
        ],
        [
            [0xd8a51c99470f3a77, 0x8d6a228125d95dd3, 0x57fa043e2a5fab8d, 0x0677506d5ac2cb2b, 0x134c04ee53628e69, 0x89d95ca20eccfe6d],
            [0xc4c443936ee36b40, 0xddba6703663f07f9, 0x03e7dd1eeb5d4d0b, 0xf9d5c47794b962cc, 0xeb8ffdb31213cdb6, 0x9d9927dab76847a5],
        ],
        [
            [0x96ad4eb3c058ec50, 0x243b3e243165e005, 0xb483caabc2c17c13, 0x97a8dc9710135494, 0x24f2c4750dcc3b8e, 0x57d89c1ff7e769f8],
            [0x3dda442a7bc53acb, 0x143b1e5a7fb230cd, 0xe866184137b0654b, 0xae713a85506caa55, 0x4c177b58ee2efddf, 0xb3ad8108354171ca],
        ],
        [
            [0xb6db76932d4575b7, 0x830d73dfc259599a, 0xd93c90bbdc10b088, 0xcec529b5d4ace4b2, 0xdb269d5d570b8d5b, 0x1ac4c02a73b11953],
            [0x034d4a8e642fd505, 0x0b1d4f3d58d23777, 0x00d28d3eaefe54c0, 0x31b3a3264d8743d3, 0x8ac60d5abf82d9cf, 0xebc5abc0e4946204],
        ],
        [
            [0xd3d0739bc0539803, 0xa5126bd6cbbec2f6, 0x014976554f8e076b, 0xfd7bdc2ba5ef3a9a, 0x0d2ee2a8efa01bd3, 0xa905806485a390ee],
            [0x32aa5cc6f93f855d, 0x0a5863117347e35a, 0x91209b673141361c, 0x38f98f250c0cc8b1, 0x8de6ffdd57f4841d, 0xf5af1a9ac2516edf],
        ],
        [
            [0xbdbd9de80856efa9, 0xa36f27c03c66ad4c, 0x408ca486aa0dd7a0, 0x3e877b511314a5c1, 0x56fec23eeec4c80f, 0x217186f9324d6429],
            [0x0bd788ad470678f0, 0x62b95c3555f89526, 0xef9454358fdae641, 0xf8e0866154304321, 0xfa9ccf772be02dc8, 0xd419dae5f12097ed],
        ],
        [
            [0xb99366612dc6971d, 0xb09d2082d99b377e, 0x9f37597bee5f6ee7, 0x6e23d920e8826c62, 0xbea835af08cabf53, 0x3d245181ea773ff4],
            [0x4868abef0506d4c9, 0x91a32a29c53f53e1, 0xc1ed17cc5817bdbc, 0x20f0915348d6b592, 0x459978de719a972a, 0x701432ee05a1a6a5],
        ],
        [
            [0xfa306c550ef05a18, 0x9791c94dff356193, 0xc0c6a12d27730e60, 0xf5b0702a70831c35, 0x45872e8c32449c11, 0x06c21a5723a41116],
            [0xce704be004e4de38, 0x24c3e051aab21335, 0xbf3fc7eac9d2f3c9, 0x5fffb89292b962d5, 0x0660f04217a8e06c, 0xb00515a9c0bf0e75],
        ],
    ],
    [
        [
            [0x3a545e3872760ab7, 0x5502f25dbf55296c, 0x59f741e082542a38, 0x6e1d3b628ba79b98, 0x8eb1c71ef320ad74, 0xaa87ca22be8b0537],
            [0x7a431d7c90ea0e5f, 0x0a60b1ce1d7e819d, 0xe9da3113b5f0b8c0, 0xf8f41dbd289a147c, 0x5d9e98bf9292dc29, 0x3617de4a96262c6f],
        ],
        [
            [0xac45111a9211fa73, 0xce690ad306a39bd4, 0x1cf6877ddaf57c5e, 0x7707a8155831213c, 0x85c3003bb658221b, 0x59de5a56e0344c2a],
            [0x468ac4c7a45d9e35, 0x02e3059cf49c0bee, 0x36089f518ef2acbb, 0xa41ca1e08199fac3, 0xfeb4cd34a08f5c25, 0x411d2298d916513a],
        ],
        [
            [0xdb22f743057a5682, 0x212dcf2c51f721ae, 0x66b6274cc951c5d9, 0xc05cfe04182a49cc, 0xb031da3effd6582c, 0xb3d99da97ebd5f3c],
            [0x4d7e446d7a3d1084, 0x8d37cb72c720a95e, 0xf411e7ca96fb5822, 0xf5bee88d6301c209, 0x5337672bf5203595, 0x75b71e1bd554d1d3],
        ],
        [
            [0x8a99909ae4f07918, 0xa6abf893b82f5740, 0xbb7c6d7e7419c9cf, 0x4eb3734bef2bc099, 0x21c7678dae5f3dfd, 0x3ff77b9690987ec2],
            [0x805195185859157a, 0x56b2e31a2215e1c6, 0x66a8defb7429a54b, 0x2bd95af4d10e9237, 0xf0d729aab05b4ad4, 0xedd047cf579300ce],
        ],
        [
            [0x0708a95b5992b108, 0x000a18d62834f982, 0x8b42b3bbdfae696e, 0x630527b74351358e, 0x0f74aa5d3721adae, 0x5b96e58d3f5ef596],
            [0xa3cd5292aa644979, 0x67028246bf5f18ac, 0x855ff5a779b30f09, 0x944682556809871a, 0x0816d773f0fc05b1, 0xf5132490c424ced7],
        ],
        [
            [0x8a38729c37a12d7e, 0xf91dc60ed7fa4f05, 0xda2f3b50d8419e40, 0x3a309100e46efd58, 0x1e4a2c77b4f38e6d, 0xa2cc00e2d76ea9b1],
            [0x95d24aea13e94d94, 0x8d39d4a29a209dd2, 0x358156651287a0d9, 0xa9d904611543b0cd, 0xa9fac91fc3a198fe, 0xa2a55b9e0cb2ec75],
        ],
        [
            [0x2059ae5ddbe8ac89, 0xebb3120a3fffa7af, 0x0da0fa40dc379e67, 0x5775c4babf6f28a6, 0x11900c1b05e28741, 0x314f84a807a665f3],
            [0x988ce175ceaafe18, 0x482e1d5ec3617489, 0x8e98656d6166464b, 0x4a03433e672447a0, 0xf572ca8c0daaa78a, 0x7599ea356f8ff7f2],
        ],
        [
            [0x4e629ac87b33d4bb, 0xd8f2d43a950cd70f, 0x8c4e1178a43e769f, 0xccd69ee4713ce6e9, 0xd205ff7d2b37729e, 0x752df1aba6c3b1d2],
            [0x52bc769dea6badbc, 0x2382fd0d37adb7e8, 0xc590101a373be3e7, 0xfe799adf2eb443ad, 0x229e991c727ad2cb, 0x4f267b6f40ddcf15],
        ],
        [
            [0x129eb4f3550e2f47, 0x6337dc9d712138f7, 0x3e2a1f7f13e54a9c, 0xddcc51e7fd9784aa, 0x8c33d591ea743f41, 0xeea16f9d01697ae2],
            [0x779e13c5a97eeec2, 0x4c8c03b234631a1b, 0x6dc880f9375f6406, 0x5deb5178243c87bf, 0x8ba028f01ffe48a5, 0x7990c82eb253a99f],
        ],
        [
            [0xbdfcb8e58737e342, 0x18dda0bafdaf0cf4, 0x37a40ece8b21b683, 0xf29fbbc3ab0538fa, 0xe7287dc2a371d378, 0xd6389c91231961bb],
            [0x6a8ded26b842d7fd, 0x75b5a3e33b11a585, 0x42bd2dbd7aec29cc, 0xe0827fbf30470e04, 0x7a1b9a30edccbdbd, 0xf9ebb1a6616745ef],
        ],
        [
            [0xe765e4731d88ac45, 0x0ab2b707fec0347b, 0x8b4022eaab959f27, 0xb2e3fdb7e48a8ddb, 0x926d1ddc548bf971, 0xbb51e391aff8413b],
            [0x7749cee740023ff9, 0x8326bcaccfb4f4e7, 0x46a1fc912829020b, 0x284ea81a8f579fcf, 0xa39ec4ae6f8653d5, 0x36fc19bd81c2037a],
        ],
        [
            [0xff4dd149d17cb1b0, 0x6bec5bf017020a2e, 0x66a042c960daea69, 0x1ba6680debecee2f, 0xb85011af996c7439, 0x05a3c4d5a976695e],
            [0xa54c4c19e77e7508, 0x40746714151ef38e, 0xc9841695890ada81, 0x056024e6d4dda2a2, 0x35ec1adbcdbc3263, 0xf3508a87eb4b8ab9],
        ],
        [
            [0x5a0f42acb6e1d5d9, 0xad90682166d39ff0, 0xead0a9714d191ee5, 0x5e0eafb539b7edb6, 0xa800025c84d892fc, 0x98946224abeeb02c],
            [0xc90df08fc1693796, 0xee46440ca3deb41e, 0x95863d35c90d33e4, 0x8f95a1937d20ec73, 0x92da3be042a1f255, 0x84564a961c98be2d],
        ],
        [
            [0x44bbc56600f77df7, 0x7cd7e3db45369197, 0xd0fba351d8457681, 0x9bea4f12e1b1b30c, 0xc3e9b2531eea691b, 0x6cc6ed17932624c4],
            [0x84b45355539aff2e, 0x1cf8351c7b63d98a, 0x2fb6d08b46b0fca4, 0xddf9dd499ab99fca, 0xc8d8b3af3ce45c80, 0xa1bbf2c44cc54d47],
        ],
        [
            [0xc999fc73babb13fb, 0x7aa55e22e8cf27ef, 0xcc30ed0b3a7c0484, 0x10cb9579f717fa92, 0xd9bb454a90d341bb, 0x2b927968c0238707],
            [0x6fdd6f4c7a306b16, 0xeabe5852cb087a18, 0x37713a72c9c5f547, 0x68ca31e87a6b862d, 0xe708e278ade61113, 0x4c939f82fa04873c],
        ],
        [
            [0x84c4870008fbdb25, 0xd4e80a5ad8102d8f, 0x23b550572296500c, 0x87e60329d5a32a0c, 0xbd5b38e35adf1e13, 0x09e2e1882a1b4881],
            [0x8b45b628c5b2673b, 0xd5f2533164e7fe3f, 0xee35abfce3b2ef7f, 0x2cefdac4588fa448, 0xfdf8801ce4fe64f0, 0x5ddc49dd54553eb3],
        ],
    ],
];
