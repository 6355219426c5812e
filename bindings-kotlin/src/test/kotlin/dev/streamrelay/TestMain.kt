package dev.streamrelay

import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import kotlin.system.exitProcess

/**
 * Runs the JUnit suite without a build tool (or the classes named as
 * arguments, e.g. `dev.streamrelay.FastPathTest`); ends with
 * "N passed, N failed".
 */
fun main(args: Array<String>) {
    val classes = if (args.isEmpty()) {
        arrayOf(VectorsTest::class.java, FlowsTest::class.java, FastPathTest::class.java, ParityTest::class.java, LoopbackTest::class.java, NodeTest::class.java, LinkTest::class.java)
    } else {
        args.map { Class.forName(it) }.toTypedArray()
    }
    val r = JUnitCore.runClasses(*classes)
    r.failures.forEach { f: Failure ->
        println("FAIL ${f.testHeader}: ${f.message}")
        println(f.trace.lines().take(12).joinToString("\n") { "    $it" })
    }
    val failed = r.failureCount
    println("${r.runCount - failed} passed, $failed failed")
    exitProcess(if (failed == 0 && r.runCount > 0) 0 else 1)
}
