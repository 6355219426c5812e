package dev.streamrelay

import dev.streamrelay.uniffi.Seed
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.connectionStrategy
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createId
import dev.streamrelay.uniffi.createKeyPair
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.decodePacket
import dev.streamrelay.uniffi.hasVectors
import dev.streamrelay.uniffi.isValidPeerId
import dev.streamrelay.uniffi.sha256
import dev.streamrelay.uniffi.vectorsCheck
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * The golden vectors (every vectors/NAME.json file) through the Kotlin API: every case
 * through `vectorsCheck` (the Rust runner behind the bindings), and the
 * kinds the idiomatic API covers — keys and ids, NAT strategies, id
 * validation, packet decoding — case by case through those functions.
 */
class VectorsTest {
    private val files: List<File> by lazy {
        val dir = File(System.getProperty("streamrelay.vectors.dir") ?: "../vectors")
        // A vector file is a JSON file in the format (vectors/schema.json is not one).
        dir.listFiles { f -> f.name.endsWith(".json") }!!.sorted()
            .filter { (Json.parse(it.readText()) as? Map<*, *>)?.get("format") == "latica-oracle-vectors/1" }
            .also { assertTrue("no vector files in $dir", it.isNotEmpty()) }
    }

    @Test
    fun everyCaseThroughTheRunner() {
        assertTrue("the test library is built with the `vectors` feature", hasVectors())
        for (f in files) {
            val doc = Json.parse(f.readText()) as Map<*, *>
            val total = (doc["cases"] as List<*>).size.toULong()
            val r = vectorsCheck(f.readBytes(), emptyList())
            r.lines.filter { it.startsWith("FAIL") }.forEach(::println)
            println("${f.name}: ${r.passed} passed, ${r.failed} failed, ${r.deviations} deviations (of $total)")
            assertEquals(0uL, r.failed)
            assertEquals(total, r.passed + r.deviations)
        }
    }

    /** The flow vectors (vectors/flows.json): every flow replayed through `vectorsCheck`. */
    @Test
    fun everyFlowThroughTheRunner() {
        val f = File(files.first().parentFile, "flows.json")
        val doc = Json.parse(f.readText()) as Map<*, *>
        assertEquals("streamrelay-flows/1", doc["format"])
        val total = (doc["flows"] as List<*>).size.toULong()
        val r = vectorsCheck(f.readBytes(), emptyList())
        r.lines.forEach(::println)
        println("${f.name}: ${r.passed} passed, ${r.failed} failed (of $total flows)")
        assertEquals(0uL, r.failed)
        assertEquals(total, r.passed)
    }

    @Test
    fun runnerRefusesWhatIsNotAVectorFile() {
        try {
            vectorsCheck("{}".toByteArray(), emptyList())
            throw AssertionError("expected StreamRelayException.Vectors")
        } catch (e: StreamRelayException.Vectors) {
            assertTrue(e.message, e.message.contains("format"))
        }
    }

    private fun seedOf(v: Any?): Seed? {
        val m = v as? Map<*, *> ?: return null
        (m["str"] as? String)?.let { return Seed.Text(it) }
        (m["hex"] as? String)?.let { return Seed.Bytes(it.hexToBytes()) }
        return null
    }

    private fun hexOf(v: Any?): String? = (v as? Map<*, *>)?.let { (it["hex"] ?: it["str"]) as? String } ?: v as? String

    @Test
    fun kindsThroughTheKotlinApi() {
        val checked = HashMap<String, Int>()
        val failures = ArrayList<String>()
        for (f in files) {
            val doc = Json.parse(f.readText()) as Map<*, *>
            for (c in doc["cases"] as List<*>) {
                c as Map<*, *>
                val kind = c["kind"] as String
                val name = c["name"] as String
                val input = c["input"] as? Map<*, *> ?: continue
                val exp = c["expected"] as? Map<*, *> ?: continue
                if (exp.containsKey("error")) continue
                val ours: String
                val want: String
                when (kind) {
                    "crypto.createKeyPair" -> {
                        val seed = seedOf(input["seed"]) ?: continue
                        val kp = createKeyPair(seed)
                        ours = kp.publicKey.toHex() + kp.secretKey.toHex()
                        want = (hexOf(exp["publicKey"]) ?: continue) + hexOf(exp["privateKey"])
                    }
                    "crypto.createSharedKey" -> {
                        ours = createSharedKey(seedOf(input["seed"]) ?: continue).toHex()
                        want = hexOf(exp["sharedKey"]) ?: continue
                    }
                    "crypto.createClusterId" -> {
                        ours = createClusterId(seedOf(input["value"]) ?: continue).toHex()
                        want = hexOf(exp["clusterId"]) ?: continue
                    }
                    "crypto.createId" -> {
                        ours = createId(seedOf(input["value"]) ?: continue).toHex()
                        want = hexOf(exp["id"]) ?: continue
                    }
                    "crypto.sha256" -> {
                        val v = input["value"] as? Map<*, *> ?: continue
                        val bytes = (v["hex"] as? String)?.hexToBytes() ?: continue
                        val opts = input["opts"] as? Map<*, *>
                        val digest = sha256(bytes)
                        // Text in opts.encoding (node's digest(encoding)) unless opts.bytes.
                        ours = if (opts?.get("bytes") == true) digest.toHex() else when (opts?.get("encoding") ?: "hex") {
                            "hex" -> digest.toHex()
                            "base64" -> java.util.Base64.getEncoder().encodeToString(digest)
                            "base64url" -> java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(digest)
                            "latin1", "binary" -> String(digest, Charsets.ISO_8859_1)
                            else -> continue
                        }
                        want = hexOf(exp["output"]) ?: continue
                    }
                    "nat.connectionStrategy" -> {
                        fun nat(x: Any?): UByte? = (x as? Double)?.takeIf { it >= 0 && it <= 255 && it == Math.floor(it) }?.toInt()?.toUByte()
                        val a = input["a"]; val b = input["b"]
                        if ((a != null && nat(a) == null) || (b != null && nat(b) == null)) continue
                        ours = connectionStrategy(nat(a), nat(b)).toString()
                        want = (exp["strategy"] as Double).toInt().toString()
                    }
                    "validate.id" -> {
                        if (input["fn"] != "isValidPeerId") continue
                        val v = input["value"] as? String ?: continue
                        ours = isValidPeerId(v).toString()
                        want = (exp["result"] as Boolean).toString()
                    }
                    "packet.decode" -> {
                        val hex = hexOf(input) ?: hexOf(input["hex"]) ?: continue
                        val accepted = exp["accepted"] as? Boolean ?: continue
                        if (c["quirk"] == true) continue // deviations are the runner's to report
                        val p = try { decodePacket(hex.hexToBytes()) } catch (e: StreamRelayException.Decode) { null }
                        ours = (p != null).toString()
                        want = accepted.toString()
                        if (p != null && accepted) {
                            val d = exp["decoded"] as? Map<*, *>
                            val type = (d?.get("type") as? Double)?.toInt()
                            if (type != null && type != p.packetType.toInt()) failures += "$name: type ${p.packetType} expected $type"
                        }
                    }
                    else -> continue
                }
                checked.merge(kind, 1, Int::plus)
                if (ours != want) failures += "$name ($kind): ours $ours expected $want"
            }
        }
        println("checked through the Kotlin API: " + checked.toSortedMap().entries.joinToString { "${it.key} ${it.value}" })
        failures.take(20).forEach(::println)
        assertEquals("failures", 0, failures.size)
        for (k in listOf("crypto.createKeyPair", "crypto.createSharedKey", "crypto.createClusterId", "crypto.createId",
            "nat.connectionStrategy", "validate.id", "packet.decode")) {
            assertTrue("no $k case checked", (checked[k] ?: 0) > 0)
        }
    }
}
